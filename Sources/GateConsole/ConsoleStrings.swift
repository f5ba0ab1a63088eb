/// The console's words in Chinese and English. Templates read them as `{{t.KEY}}`; a missing key renders empty,
/// so every key is in both tables (`ConsoleStringsTests` would be the place to check that).
enum ConsoleStrings {
    static func table(_ language: String) -> [String: String] { language == "en" ? enAll : zhAll }
    /// The tables with the evidence pages' words (ConsoleEvidenceStrings.swift).
    static let zhAll = zhWithHub.merging(evidenceZH) { first, _ in first }.merging(pagesZH) { first, _ in first }
    static let enAll = enWithHub.merging(evidenceEN) { first, _ in first }.merging(pagesEN) { first, _ in first }

    static let zh: [String: String] = [
        "title": "门禁管理台", "dashboard": "总览", "residents": "住户", "doors": "门", "visitors": "访客",
        "events": "事件", "users": "控制台用户", "logout": "退出登录", "login": "登录", "setup": "首次设置",
        "name": "姓名", "user": "用户名", "password": "密码", "role": "角色", "unit": "房号", "validUntil": "有效期至",
        "setupToken": "设置令牌（设备上打印的一次性令牌）", "setupIntro": "创建第一位管理员。没有默认密码。",
        "loginFailed": "用户名或密码错误。", "locked": "该账户已被锁定，请联系管理员解锁。",
        "tooMany": "尝试次数过多，请稍后再试。",
        "doorState": "门状态", "lock": "锁", "contact": "门磁", "alarms": "告警", "today": "今日通行（按方式）",
        "method": "方式", "granted": "允许", "denied": "拒绝", "time": "时间", "door": "门", "result": "结果",
        "reason": "原因", "resident": "住户", "operator": "操作人", "live": "实时", "search": "搜索",
        "addResident": "添加住户", "add": "添加", "cards": "卡片", "addCard": "添加卡片", "cardUID": "卡号（十六进制）",
        "pin": "密码", "set": "已设置", "notSet": "未设置", "consent": "人脸识别同意", "active": "有效",
        "none": "无", "templates": "人脸模板", "export": "导出住户（CSV）", "open": "开门", "openDoor": "远程开门",
        "openReason": "开门原因（必填）", "opened": "门已开启。", "issuePass": "签发访客通行证", "validFor": "有效时长",
        "uses": "次数", "visitorName": "访客姓名", "issue": "签发", "passCode": "键盘码（仅显示一次）",
        "passQR": "二维码（仅显示一次）", "passIssued": "访客通行证已签发", "notice": "告知书",
        "noticeVersion": "告知书版本", "language": "语言", "grant": "记录同意", "withdraw": "撤回同意",
        "ledger": "同意记录", "action": "操作", "consentMethod": "方式", "scope": "范围",
        "receipt": "撤回与删除回执", "receiptText": "人脸识别同意已撤回，人脸模板已删除。卡片与密码继续有效。",
        "ledgerEntry": "记录编号", "deleted": "已删除的人脸模板", "print": "打印", "back": "返回",
        "forbidden": "无权访问：您的角色不能使用此页面。", "crossSite": "请求被拒绝：缺少有效的安全令牌或来源不符。",
        "notFound": "未找到。", "daemonDown": "门禁守护进程未运行。", "error": "无法完成", "addUser": "添加用户",
        "unlock": "解锁", "failures": "错误次数", "lockedState": "已锁定", "passes": "访客通行证", "state": "状态",
        "administrator": "管理员", "manager": "物业经理", "guard": "保安", "auditor": "审计员",
        "signedInAs": "当前用户", "kiosk": "自助终端", "paper": "纸质", "console": "管理台", "noConsent": "未同意",
        "allDoors": "全部门", "residentPage": "住户详情", "consentPage": "同意与告知",
    ]

    static let en: [String: String] = [
        "title": "Gate console", "dashboard": "Dashboard", "residents": "Residents", "doors": "Doors", "visitors": "Visitors",
        "events": "Events", "users": "Console users", "logout": "Sign out", "login": "Sign in", "setup": "First-run setup",
        "name": "Name", "user": "User name", "password": "Password", "role": "Role", "unit": "Unit", "validUntil": "Valid until",
        "setupToken": "Setup token (the one-time token printed on the device)", "setupIntro": "Create the first administrator. There is no default password.",
        "loginFailed": "Wrong user name or password.", "locked": "This account is locked; an administrator can unlock it.",
        "tooMany": "Too many attempts; try again in a minute.",
        "doorState": "Doors", "lock": "Lock", "contact": "Contact", "alarms": "Alarms", "today": "Today's decisions by method",
        "method": "Method", "granted": "Granted", "denied": "Denied", "time": "Time", "door": "Door", "result": "Result",
        "reason": "Reason", "resident": "Resident", "operator": "Operator", "live": "Live", "search": "Search",
        "addResident": "Add a resident", "add": "Add", "cards": "Cards", "addCard": "Add a card", "cardUID": "Card UID (hex)",
        "pin": "PIN", "set": "set", "notSet": "not set", "consent": "Face-recognition consent", "active": "active",
        "none": "none", "templates": "Face templates", "export": "Export residents (CSV)", "open": "Open", "openDoor": "Open a door remotely",
        "openReason": "Reason (required)", "opened": "The door was released.", "issuePass": "Issue a visitor pass", "validFor": "Valid for",
        "uses": "Uses", "visitorName": "Visitor's name", "issue": "Issue", "passCode": "Keypad code (shown only now)",
        "passQR": "QR code (shown only now)", "passIssued": "Visitor pass issued", "notice": "Notice",
        "noticeVersion": "Notice version", "language": "Language", "grant": "Record consent", "withdraw": "Withdraw consent",
        "ledger": "Consent ledger", "action": "Action", "consentMethod": "Method", "scope": "Scope",
        "receipt": "Withdrawal and deletion receipt", "receiptText": "Face-recognition consent was withdrawn and the face templates were deleted. Cards and PIN keep working.",
        "ledgerEntry": "Ledger entry", "deleted": "Face templates deleted", "print": "Print", "back": "Back",
        "forbidden": "Forbidden: your role may not use this page.", "crossSite": "Refused: the request had no valid security token or came from another site.",
        "notFound": "Not found.", "daemonDown": "The gate daemon is not running.", "error": "Could not do that", "addUser": "Add a user",
        "unlock": "Unlock", "failures": "Wrong passwords", "lockedState": "locked", "passes": "Visitor passes", "state": "State",
        "administrator": "Administrator", "manager": "Manager", "guard": "Guard", "auditor": "Auditor",
        "signedInAs": "Signed in as", "kiosk": "kiosk", "paper": "paper", "console": "console", "noConsent": "none",
        "allDoors": "all doors", "residentPage": "Resident", "consentPage": "Consent and notice",
    ]
}
