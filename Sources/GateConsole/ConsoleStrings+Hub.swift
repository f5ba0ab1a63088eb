/// The words of hub mode (`optgate-console --hub`), kept apart from the main tables and merged into them.
extension ConsoleStrings {
    static let zhWithHub = zh.merging([
        "fleetSync": "网关同步状态", "gate": "网关", "site": "园区", "appliedSeq": "已应用变更", "behind": "落后",
        "reported": "上次报告", "lastEvent": "上次事件", "atEachGate": "由各网关删除并回执",
    ]) { current, _ in current }

    static let enWithHub = en.merging([
        "fleetSync": "Gate sync", "gate": "Gate", "site": "Site", "appliedSeq": "Applied change", "behind": "Behind",
        "reported": "Last report", "lastEvent": "Last event", "atEachGate": "deleted by each gate, which acknowledges",
    ]) { current, _ in current }
}
