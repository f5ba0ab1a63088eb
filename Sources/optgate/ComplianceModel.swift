import Foundation
import GateConfiguration
import GateControl
import GateCore
import GateStore

/// The impact assessment's facts (R13), gathered from the configuration and the store: what `compliance pia
/// --format json` prints and what its Markdown and HTML say in words.
struct ImpactAssessment: Encodable {
    struct DataItem: Codable {
        var table: String
        var items: [String]
        var purpose: String
        var protection: String
    }
    struct Retention: Codable {
        var kind: String
        var period: String
    }
    struct DoorPolicy: Codable {
        var name: String
        var methods: [String]
        var verifyMode: String
        /// Methods a resident without a face template (or who never consents) uses at this door (R1, R2).
        var alternatives: [String]
        var faceEntry: Bool
        var liveness: String?
        var threshold: Double?
        var margin: Double?
        var requiredFrames: Int?
        var visitorQR: Bool
    }
    struct Access: Codable {
        var controlSocketGroup: String?
        var stateDirectory: String
        var groups: [Group]
        struct Group: Codable {
            var name: String
            var doors: [String]
            var schedule: String
            var members: Int
        }
    }
    struct Risk: Codable {
        var risk: String
        var mitigation: String
    }

    var generatedAt: String
    var language: String
    var device: String
    var version: String
    var controller: String?
    var contact: String?
    var purpose: String
    var storage: String
    var encryption: [String]
    var dataItems: [DataItem]
    var retention: [Retention]
    var access: Access
    var doors: [DoorPolicy]
    var pinGuessingBudget: [String]
    var counts: ComplianceCounts
    var filing: FilingStatus
    var notices: [NoticeJSON]
    var auditVerify: AuditVerifyJSON
    var errorRates: String
    var risks: [Risk]
}

struct AuditVerifyJSON: Codable {
    var intact: Bool
    var entries: Int?
    var brokenAt: Int64?
    var problem: String?

    init(_ verification: AuditVerification) {
        switch verification {
        case .intact(let entries): (intact, self.entries) = (true, entries)
        case .broken(let seq, let problem): (intact, brokenAt, self.problem) = (false, seq, problem)
        }
    }

    func sentence(_ l: Language) -> String {
        intact ? l.t("intact: \(entries ?? 0) entries, hash chain and signed head verified",
                     "完整：\(entries ?? 0) 条记录，哈希链与签名头部校验通过")
            : l.t("BROKEN at entry \(brokenAt ?? 0): \(problem ?? "")", "在第 \(brokenAt ?? 0) 条记录处损坏：\(problem ?? "")")
    }
}

/// zh or en: every sentence of the generated documents exists in both.
enum Language: String, CaseIterable, Codable {
    case zh, en
    func t(_ en: String, _ zh: String) -> String { self == .zh ? zh : en }
}

extension ImpactAssessment {
    static func build(configuration: DaemonConfiguration, database: GateDatabase, stateDirectory: String, language l: Language) throws -> ImpactAssessment {
        let compliance = configuration.compliance
        let face = configuration.face
        let doors = configuration.doors.map { door -> DoorPolicy in
            let faceHere = configuration.faceEntryConfigured && door.name == face.door && door.methods.contains(.face)
            var alternatives = door.methods.subtracting([.face]).map(\.rawValue).sorted()
            if door.methods.contains(.pin) || door.visitorQR { alternatives.append("visitor") }
            return DoorPolicy(
                name: door.name, methods: door.methods.map(\.rawValue).sorted(), verifyMode: door.verifyMode.rawValue,
                alternatives: alternatives, faceEntry: faceHere,
                liveness: faceHere ? face.liveness.policy.rawValue : nil,
                threshold: faceHere ? (face.threshold ?? defaultThreshold(face.embedder)) : nil,
                margin: faceHere ? face.margin : nil, requiredFrames: faceHere ? face.requiredFrames : nil,
                visitorQR: door.visitorQR)
        }
        let budget = GuessingBudgetReport(configuration: configuration, stateDirectory: stateDirectory, assumedHolders: nil).lines
        let filing = try database.filingStatus(compliance.filingThresholds, zone: configuration.siteTimeZone)
        let ledgerDays = configuration.complianceRetention.consentLedgerDays
        let assessmentDays = configuration.complianceRetention.assessmentDays
        let retention = [
            Retention(kind: l.t("face templates", "人脸特征模板"),
                      period: l.t("until consent is withdrawn, the resident moves out (validUntil) or is erased; deleted in the same transaction, no image is ever kept",
                                  "至撤回同意、住户迁出（有效期届满）或被删除为止；在同一事务中删除，从不保存图像")),
            Retention(kind: l.t("access and alarm events", "通行与告警记录"),
                      period: l.t("\(configuration.accessEventRetentionDays) days (retention.accessEventDays), then blanked",
                                  "\(configuration.accessEventRetentionDays) 天（retention.accessEventDays），到期清除内容")),
            Retention(kind: l.t("consent ledger", "同意记录"),
                      period: l.t("at least 3 years\(ledgerDays.map { " (retention.consentLedgerDays \($0))" } ?? ""); never purged; removed only with the resident's own erasure",
                                  "至少 3 年\(ledgerDays.map { "（retention.consentLedgerDays \($0)）" } ?? "")；从不自动清除，仅随住户本人的删除请求删除")),
            Retention(kind: l.t("impact assessments", "影响评估记录"),
                      period: l.t("at least 3 years\(assessmentDays.map { " (retention.assessmentDays \($0))" } ?? ""); never purged",
                                  "至少 3 年\(assessmentDays.map { "（retention.assessmentDays \($0)）" } ?? "")；从不清除")),
            Retention(kind: l.t("identity data, cards, PINs", "身份信息、门卡、密码"),
                      period: l.t("until the resident is erased", "至住户被删除为止")),
        ]
        let dataItems = [
            DataItem(table: "resident", items: [l.t("random id", "随机编号"), l.t("display name", "姓名"), l.t("unit", "房号"),
                                                l.t("move-in/move-out", "入住/迁出时间"), l.t("under-14 flag (no birth date)", "未满 14 周岁标记（不含出生日期）")],
                     purpose: l.t("identify the resident to staff", "供物业人员识别住户"), protection: l.t("file permissions 0640, state directory 0750", "文件权限 0640，状态目录 0750")),
            DataItem(table: "card", items: [l.t("keyed hash of the card UID", "卡号的带密钥哈希"), l.t("last 4 hex digits", "卡号后 4 位")],
                     purpose: l.t("card entry", "刷卡通行"), protection: l.t("HMAC-SHA256 under the device key; the full UID is never stored", "设备密钥下的 HMAC-SHA256；不保存完整卡号")),
            DataItem(table: "pin", items: [l.t("slow salted PIN hash", "加盐慢哈希"), l.t("keyed lookup tag (PIN-only keypads)", "带密钥查找标签（仅密码模式）")],
                     purpose: l.t("PIN entry", "密码通行"), protection: l.t("scrypt N=2^15; guessing limited by lockouts", "scrypt N=2^15；错误次数锁定")),
            DataItem(table: "consent", items: [l.t("grant/withdraw, time, device, operator", "同意/撤回、时间、设备、经办人"),
                                               l.t("notice version + SHA-256, language, method, scope", "告知书版本与 SHA-256、语言、方式、范围"),
                                               l.t("guardian name, relation, method (under 14)", "监护人姓名、关系、方式（未满 14 周岁）")],
                     purpose: l.t("separate consent to face recognition (R4, R6)", "人脸识别单独同意（R4、R6）"), protection: l.t("append-only (database triggers)", "仅追加（数据库触发器保护）")),
            DataItem(table: "faceTemplate", items: [l.t("face embedding (numbers, no image)", "人脸特征向量（数字，不含图像）"), l.t("embedder name and dimension", "模型名称与维度")],
                     purpose: l.t("face entry for residents who consented", "已同意住户的刷脸通行"),
                     protection: l.t("AES-256-GCM under a key kept outside the database; stored apart from identity data, joined by the random id (R11); only on this device (R8)",
                                     "AES-256-GCM 加密，密钥保存在数据库之外；与身份信息分表存放，仅以随机编号关联（R11）；仅存于本设备（R8）")),
            DataItem(table: "auditEntry", items: [l.t("time, door, method, result, reason, resident id or none; no image", "时间、门、方式、结果、原因、住户编号或空；不含图像")],
                     purpose: l.t("evidence of every decision and change (R20)", "每次判定与变更的证据（R20）"), protection: l.t("hash chain with a signed head and an anchor file", "哈希链、签名头部与锚定文件")),
            DataItem(table: "notice, assessment, filingAlarm", items: [l.t("notice texts and hashes; assessment hashes; thresholds alarmed", "告知书文本与哈希；评估哈希；已告警阈值")],
                     purpose: l.t("compliance evidence (R5, R13, R14)", "合规证据（R5、R13、R14）"), protection: l.t("append-only", "仅追加")),
        ]
        let groups = try database.groupSummaries().map { Access.Group(name: $0.name, doors: $0.doors, schedule: $0.schedule, members: $0.members) }
        let policies = doors.compactMap { $0.liveness }
        let minimumDoorsWithoutFace = doors.allSatisfy { door in door.alternatives.contains { $0 != "visitor" } }
        let risks = [
            Risk(risk: l.t("a photo or video opens the door (presentation attack)", "照片或视频冒充开门（呈现攻击）"),
                 mitigation: l.t("liveness policy per door (\(policies.isEmpty ? "no face door" : policies.joined(separator: ", "))); several agreeing frames; card/PIN remain",
                                 "按门配置活体检测（\(policies.isEmpty ? "无刷脸门" : policies.joined(separator: "、"))）；多帧一致；门卡/密码始终可用")),
            Risk(risk: l.t("a stranger is matched as a resident", "陌生人被误识别为住户"),
                 mitigation: l.t("open-set threshold with a margin to the second-best match; measured rates in docs/face.md", "开放集阈值与次优匹配差距；实测误识率见 docs/face.md")),
            Risk(risk: l.t("residents are pressed into face recognition", "住户被迫使用人脸识别"),
                 mitigation: l.t("every door keeps card or PIN (\(minimumDoorsWithoutFace ? "holds at every door" : "CHECK DOORS")); consent separate, never a condition; parity report shows alternatives are as fast",
                                 "每个门都保留门卡或密码（\(minimumDoorsWithoutFace ? "全部满足" : "请检查")）；单独同意，不作为通行条件；对等报告显示替代方式同样便捷")),
            Risk(risk: l.t("face data leaves the device or is stolen", "人脸数据外传或被盗"),
                 mitigation: l.t("templates only, encrypted, key outside the database, never transmitted; no images stored", "仅存特征模板并加密，密钥在数据库外，不外传；不保存图像")),
            Risk(risk: l.t("a child's face is enrolled without a guardian", "未经监护人同意录入儿童人脸"),
                 mitigation: l.t("under-14 flag; consent and enrolment refused without guardian name, relation and method (database triggers)",
                                 "未满 14 周岁标记；无监护人姓名、关系、方式时拒绝同意与录入（数据库触发器）")),
            Risk(risk: l.t("PINs are guessed", "密码被猜测"),
                 mitigation: l.t("wrong-PIN lockouts per keypad and door; see the guessing budget", "按键盘与门的错误锁定；见猜测预算")),
            Risk(risk: l.t("the filing threshold is passed unnoticed", "超过备案阈值而未察觉"),
                 mitigation: l.t("filing counter with alarms at \(filing.warnAt.map(String.init).joined(separator: ", ")) and deadline computed with the holiday calendar",
                                 "备案计数器在 \(filing.warnAt.map(String.init).joined(separator: "、")) 人时告警，并按节假日历计算截止日")),
        ]
        return ImpactAssessment(
            generatedAt: Output.time(.current()), language: l.rawValue, device: GateDatabase.deviceName, version: OptgateVersion.string,
            controller: compliance.controller, contact: compliance.contact,
            purpose: compliance.purpose ?? l.t("entry to the residential compound for residents who chose face recognition; card and PIN for everyone",
                                               "供选择人脸识别的住户进入小区；门卡与密码对所有住户开放"),
            storage: l.t("on this device only: \(database.databasePath) and the key in \(stateDirectory)/keys (never transmitted, R8)",
                         "仅存于本设备：\(database.databasePath)，密钥在 \(stateDirectory)/keys（不外传，R8）"),
            encryption: [l.t("face templates: AES-256-GCM, template key outside the database", "人脸模板：AES-256-GCM，密钥在数据库之外"),
                         l.t("cards: HMAC-SHA256; PINs: scrypt", "门卡：HMAC-SHA256；密码：scrypt"),
                         l.t("audit log: HMAC hash chain, signed head, anchor file", "审计日志：HMAC 哈希链、签名头部、锚定文件")],
            dataItems: dataItems, retention: retention,
            access: Access(controlSocketGroup: configuration.controlGroup, stateDirectory: stateDirectory, groups: groups),
            doors: doors, pinGuessingBudget: budget, counts: try database.complianceCounts(), filing: filing,
            notices: try database.noticeVersions().map(NoticeJSON.init),
            auditVerify: AuditVerifyJSON(try database.verifyAudit()),
            errorRates: l.t("measured false match / false non-match rates of the shipped embedders: docs/face.md", "所用模型的实测误识率与拒识率：docs/face.md"),
            risks: risks)
    }
}

/// The threshold the face engine uses when `face.threshold` is not set (`FaceEngine`): 0.5 for dlib, else the network's.
func defaultThreshold(_ embedder: FaceConfiguration.Embedder) -> Double {
    if case .network(let network) = embedder { return network.threshold }
    return 0.5
}
