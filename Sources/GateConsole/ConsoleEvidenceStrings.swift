/// The words of the evidence pages (events filters and exports, audit, compliance, data-subject requests), merged
/// into `ConsoleStrings`' tables. Every key is in both languages.
extension ConsoleStrings {
    static let evidenceZH: [String: String] = [
        "audit": "审计日志", "compliance": "合规", "requests": "个人信息请求",
        "from": "起始日期", "until": "截止日期", "filter": "筛选", "exportCSV": "导出 CSV", "exportJSON": "导出 JSON",
        "todayOnly": "仅显示今日事件。", "shown": "条",
        "auditIntact": "审计日志完整，校验通过。", "auditBroken": "审计日志校验失败：", "entries": "条目数",
        "head": "签名链头", "anchor": "外部锚点", "anchorPath": "锚点文件", "hash": "哈希", "recentAudit": "最近的审计条目",
        "category": "类别", "detail": "详情", "findings": "发现的问题",
        "filing": "备案计数（R14）", "people": "存有人脸数据的人数", "threshold": "备案阈值", "warnAt": "预警阈值",
        "crossed": "已越过的阈值", "deadline": "备案截止日", "daysLeft": "剩余工作日", "parity": "通行方式对等性（R2）",
        "counts": "存储统计", "assessments": "影响评估与报告记录", "kind": "类型", "format": "格式",
        "piaHow": "个人信息影响评估由 optgate compliance pia 生成并记录（SHA-256 与时间）；此处可生成下载，并列出全部记录。",
        "piaDownload": "生成并下载影响评估",
        "requestsIntro": "住户的数据可携带请求（JSON 导出）与删除请求（删除后出具回执）。每次操作均写入审计日志。",
        "exportData": "导出数据（JSON）", "erase": "删除住户", "confirmErase": "再次输入住户编号以确认",
        "erasure": "删除回执", "erasureText": "该住户的资料、卡片、密码、同意记录与人脸模板已删除，审计日志中涉及该住户的条目已抹除。",
        "displayContrast": "高对比度大字", "displayNormal": "标准显示",
        "tombstone": "审计条目（墓碑）", "token": "回执令牌", "blanked": "抹除的审计条目",
    ]

    static let evidenceEN: [String: String] = [
        "audit": "Audit log", "compliance": "Compliance", "requests": "Data requests",
        "from": "From", "until": "Until", "filter": "Filter", "exportCSV": "Export CSV", "exportJSON": "Export JSON",
        "todayOnly": "Today's events only.", "shown": "shown",
        "auditIntact": "The audit log is intact: the check passed.", "auditBroken": "The audit log does not verify:", "entries": "Entries",
        "head": "Signed head", "anchor": "External anchor", "anchorPath": "Anchor file", "hash": "Hash", "recentAudit": "Newest audit entries",
        "category": "Category", "detail": "Detail", "findings": "Findings",
        "filing": "Filing counter (R14)", "people": "People with face data", "threshold": "Filing threshold", "warnAt": "Warnings at",
        "crossed": "Thresholds crossed", "deadline": "Filing deadline", "daysLeft": "Working days left", "parity": "Parity of credential methods (R2)",
        "counts": "What the store holds", "assessments": "Impact assessments and reports on record", "kind": "Kind", "format": "Format",
        "piaHow": "The impact assessment is drafted and recorded (SHA-256 and time) by optgate compliance pia; generate and download one here. Every record is listed below.",
        "piaDownload": "Generate and download the impact assessment",
        "requestsIntro": "A resident's request for their data (JSON export) or for erasure (with a receipt). Each is recorded in the audit log.",
        "exportData": "Export data (JSON)", "erase": "Erase resident", "confirmErase": "Type the resident's id again to confirm",
        "erasure": "Erasure receipt", "erasureText": "The resident's profile, cards, PIN, consent records and face templates were deleted, and the audit entries naming them were blanked.",
        "displayContrast": "High contrast, large text", "displayNormal": "Standard display",
        "tombstone": "Audit entry (tombstone)", "token": "Receipt token", "blanked": "Audit entries blanked",
    ]
}
