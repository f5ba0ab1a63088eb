/// The words of the resident edits and visitor revocation (ConsoleResidentEditRoutes.swift), merged into
/// `ConsoleStrings`' tables. Every key is in both languages.
extension ConsoleStrings {
    static let pagesZH: [String: String] = [
        "removeCard": "移除卡片", "removeCardUID": "要移除的卡号（十六进制，完整输入）", "remove": "移除",
        "moveOut": "搬离日期", "moveOutDate": "搬离日期（当天结束后失效；留空表示不限）", "save": "保存",
        "setPIN": "设置密码", "newPIN": "新密码（仅数字，输入时隐藏）", "setPINButton": "设置密码", "revoke": "撤销",
        "moreResidents": "只列出前 200 位住户；请输入姓名或房号缩小范围。",
    ]

    static let pagesEN: [String: String] = [
        "removeCard": "Remove a card", "removeCardUID": "Card UID to remove (hex, typed in full)", "remove": "Remove",
        "moveOut": "Move-out date", "moveOutDate": "Move-out date (access ends after that day; empty: none)", "save": "Save",
        "setPIN": "Set the PIN", "newPIN": "New PIN (digits only, hidden as typed)", "setPINButton": "Set PIN", "revoke": "Revoke",
        "moreResidents": "Only the first 200 residents are listed; search by name or unit to narrow it down.",
    ]
}
