import Foundation
import GateCore
import GateStore

/// A small document model rendered as Markdown or print-ready HTML (the impact assessment, the report).
struct ComplianceDocument {
    enum Block {
        case paragraph(String)
        case list([String])
        case table(header: [String], rows: [[String]])
    }
    struct Section {
        var heading: String
        var blocks: [Block]
    }

    var title: String
    var language: Language
    var sections: [Section] = []

    mutating func add(_ heading: String, _ blocks: Block...) { sections.append(Section(heading: heading, blocks: blocks)) }

    var markdown: String {
        var out = "# \(title)\n"
        for section in sections {
            out += "\n## \(section.heading)\n"
            for block in section.blocks {
                switch block {
                case .paragraph(let text): out += "\n\(text)\n"
                case .list(let items): out += "\n" + items.map { "- \($0)\n" }.joined()
                case .table(let header, let rows):
                    func cells(_ row: [String]) -> String {
                        "| " + row.map { $0.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }.joined(separator: " | ") + " |\n"
                    }
                    out += "\n" + cells(header) + cells(header.map { _ in "---" }) + rows.map(cells).joined()
                }
            }
        }
        return out
    }

    var html: String {
        var body = "<h1>\(escapeHTML(title))</h1>\n"
        for section in sections {
            body += "<h2>\(escapeHTML(section.heading))</h2>\n"
            for block in section.blocks {
                switch block {
                case .paragraph(let text): body += "<p>\(escapeHTML(text))</p>\n"
                case .list(let items): body += "<ul>" + items.map { "<li>\(escapeHTML($0))</li>" }.joined() + "</ul>\n"
                case .table(let header, let rows):
                    body += "<table><thead><tr>" + header.map { "<th>\(escapeHTML($0))</th>" }.joined() + "</tr></thead><tbody>"
                    body += rows.map { "<tr>" + $0.map { "<td>\(escapeHTML($0))</td>" }.joined() + "</tr>" }.joined()
                    body += "</tbody></table>\n"
                }
            }
        }
        return """
            <!DOCTYPE html>
            <html lang="\(language == .zh ? "zh-CN" : "en")"><head><meta charset="utf-8"><title>\(escapeHTML(title))</title>
            <style>
            @page { size: A4; margin: 18mm; }
            body { font-family: "Noto Sans CJK SC", "Noto Serif CJK SC", "DejaVu Sans", sans-serif; font-size: 10.5pt; color: #111; }
            h1 { font-size: 18pt; border-bottom: 2px solid #333; } h2 { font-size: 13pt; margin-top: 1.4em; page-break-after: avoid; }
            table { border-collapse: collapse; width: 100%; page-break-inside: auto; } tr { page-break-inside: avoid; }
            th, td { border: 1px solid #999; padding: 3px 6px; text-align: left; vertical-align: top; } th { background: #eee; }
            </style></head><body>
            \(body)</body></html>

            """
    }
}

func escapeHTML(_ text: String) -> String {
    var out = ""
    for character in text {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(character)
        }
    }
    return out
}

extension ImpactAssessment {
    /// The assessment in words, in its language.
    var document: ComplianceDocument {
        let l = Language(rawValue: language) ?? .zh
        var doc = ComplianceDocument(title: l.t("Personal information protection impact assessment (draft): face recognition at the gate",
                                                "个人信息保护影响评估（草稿）：门禁人脸识别"), language: l)
        doc.add(l.t("About this assessment", "关于本评估"), .list([
            l.t("generated \(generatedAt) on device \(device) by optgate \(version) from its configuration and store",
                "由 optgate \(version) 于 \(generatedAt) 在设备 \(device) 上根据其配置与数据库生成"),
            l.t("controller: \(controller ?? "(not configured: compliance.controller)")", "个人信息处理者：\(controller ?? "（未配置 compliance.controller）")"),
            l.t("contact: \(contact ?? "(not configured: compliance.contact)")", "联系方式：\(contact ?? "（未配置 compliance.contact）")"),
            l.t("kept at least 3 years: its SHA-256 and time are recorded on the device", "至少保存 3 年：其 SHA-256 与生成时间记录在设备上"),
        ]))
        doc.add(l.t("Purpose", "处理目的"), .paragraph(purpose))
        doc.add(l.t("Data items", "个人信息项"), .table(
            header: [l.t("table", "数据表"), l.t("items", "信息项"), l.t("purpose", "用途"), l.t("protection", "保护措施")],
            rows: dataItems.map { [$0.table, $0.items.joined(separator: "; "), $0.purpose, $0.protection] }))
        doc.add(l.t("Where it is stored", "存储位置"), .paragraph(storage))
        doc.add(l.t("Encryption", "加密"), .list(encryption))
        doc.add(l.t("Retention", "保存期限"), .table(header: [l.t("kind", "类别"), l.t("retention", "期限")],
                                                   rows: retention.map { [$0.kind, $0.period] }))
        var accessLines = [l.t("state directory \(access.stateDirectory): root and the optgate service only", "状态目录 \(access.stateDirectory)：仅 root 与 optgate 服务"),
                           l.t("control socket group: \(access.controlSocketGroup ?? "none (root only)")", "控制套接字用户组：\(access.controlSocketGroup ?? "无（仅 root）")"),
                           l.t("every change is audited with the operator's Unix user", "每项变更都记录经办人的系统用户")]
        accessLines += access.groups.map { l.t("access group \($0.name): doors \($0.doors.joined(separator: ",")), schedule \($0.schedule), \($0.members) member(s)",
                                                "通行组 \($0.name)：门 \($0.doors.joined(separator: ",")), 时段 \($0.schedule), \($0.members) 人") }
        if access.groups.isEmpty { accessLines.append(l.t("no access groups: every resident may use every door", "无通行组：住户可使用所有门")) }
        doc.add(l.t("Who can access", "访问权限"), .list(accessLines))
        doc.add(l.t("Doors: face policy and alternatives", "各门：人脸策略与替代方式"), .table(
            header: [l.t("door", "门"), l.t("methods", "方式"), l.t("verify mode", "验证模式"), l.t("alternatives to face", "人脸之外的方式"),
                     l.t("liveness", "活体检测"), l.t("threshold", "阈值")],
            rows: doors.map { [$0.name, $0.methods.joined(separator: ","), $0.verifyMode, $0.alternatives.joined(separator: ","),
                               $0.liveness ?? l.t("no face entry", "无刷脸"), $0.threshold.map { String(format: "%.3f", $0) } ?? "-"] }))
        doc.add(l.t("Measured error rates", "实测误差"), .paragraph(errorRates))
        doc.add(l.t("PIN guessing budget", "密码猜测预算"), .list(pinGuessingBudget.isEmpty ? [l.t("no PIN door", "无密码门")] : pinGuessingBudget))
        doc.add(l.t("Counts", "数量"), .table(header: [l.t("what", "项目"), l.t("count", "数量")], rows: [
            [l.t("residents", "住户"), "\(counts.residents)"], [l.t("residents under 14", "未满 14 周岁住户"), "\(counts.residentsUnder14)"],
            [l.t("residents with face data", "存有人脸数据的住户"), "\(counts.residentsWithFace)"], [l.t("face templates", "人脸模板"), "\(counts.faceTemplates)"],
            [l.t("consents in force", "有效同意"), "\(counts.activeConsents)"], [l.t("consent grants recorded", "同意记录"), "\(counts.consentGrants)"],
            [l.t("guardian consents", "监护人同意"), "\(counts.guardianConsents)"], [l.t("withdrawals", "撤回"), "\(counts.withdrawals)"],
            [l.t("erasures", "删除"), "\(counts.erasures)"], [l.t("move-out deletions", "迁出删除"), "\(counts.moveOuts)"],
        ]))
        doc.add(l.t("Filing with the CAC (R14)", "网信部门备案（R14）"), .paragraph(filing.summary))
        doc.add(l.t("Notices", "告知书"), .list(notices.map { "v\($0.version) \($0.language) \($0.source) sha256 \($0.sha256)\($0.active ? l.t(" (active)", "（现行）") : "")" }))
        doc.add(l.t("Audit log", "审计日志"), .paragraph(auditVerify.sentence(l)))
        doc.add(l.t("Risks and mitigations", "风险与应对措施"), .table(header: [l.t("risk", "风险"), l.t("mitigation", "措施")],
                                                              rows: risks.map { [$0.risk, $0.mitigation] }))
        return doc
    }
}
