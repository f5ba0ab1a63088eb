import ArgumentParser
import Foundation
import GateConfiguration
import GateCore
import GateStore

extension ComplianceCommand {
    /// The sign at the gate (R5, R15), zh and en side by side, from the active notice and the configuration.
    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Render the gate sign (zh + en) from the active notice and the configuration: print-ready HTML, PDF and PNG through headless chromium.")
        @OptionGroup var common: Common
        @Option(help: "Write the HTML here (default: standard output, unless --pdf or --screenshot is given).") var out: String?
        @Option(help: "Also print it to this PDF with headless chromium.") var pdf: String?
        @Option(help: "Also render a PNG screenshot of it with headless chromium.") var screenshot: String?

        func run() throws {
            let configuration = try DaemonConfiguration.forCLI(common.config)
            let database = try common.global.database()
            guard let zh = try database.activeNotice(language: "zh"), let en = try database.activeNotice(language: "en") else {
                throw CLIError("The sign needs a notice in zh and in en (optgate notice list).")
            }
            let html = GateSign(configuration: configuration, zh: zh, en: en).html
            var htmlPath = out
            if htmlPath == nil && (pdf != nil || screenshot != nil) {
                htmlPath = NSTemporaryDirectory() + "optgate-sign-\(getpid()).html"
            }
            guard let htmlPath else { return print(html, terminator: "") }
            try emit(html, to: htmlPath)
            defer { if out == nil { try? FileManager.default.removeItem(atPath: htmlPath) } }
            if out != nil { print("sign: \(htmlPath)") }
            guard pdf != nil || screenshot != nil else { return }
            let browser = try Chromium.locate()
            if let pdf {
                try browser.run(["--print-to-pdf=\(absolute(pdf))", "--no-pdf-header-footer"], page: htmlPath, output: pdf)
                print("sign: \(pdf)")
            }
            if let screenshot {
                try browser.run(["--screenshot=\(absolute(screenshot))", "--window-size=1240,1754", "--hide-scrollbars"], page: htmlPath,
                                output: screenshot)
                print("sign: \(screenshot)")
            }
        }
    }
}

func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
}

/// Debian's chromium, headless (`apt install chromium`; scripts/install-deps installs it).
struct Chromium {
    var executable: String

    static func locate() throws -> Chromium {
        let candidates = [ProcessInfo.processInfo.environment["OPTGATE_CHROMIUM"], "/usr/bin/chromium", "/usr/bin/chromium-browser",
                          "/usr/bin/google-chrome"].compactMap { $0 }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw CLIError("chromium is not installed (apt install chromium); write the HTML with --out and print it from a browser instead.")
        }
        return Chromium(executable: found)
    }

    /// Runs chromium on `page` with `arguments` and checks that it wrote `output`.
    func run(_ arguments: [String], page: String, output: String) throws {
        let profile = NSTemporaryDirectory() + "optgate-chromium-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: profile) }
        try? FileManager.default.removeItem(atPath: absolute(output))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        // No sandbox: it needs user namespaces, often missing on a gate box and always when run as root; the page is
        // our own file, with no script and no network.
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                             "--user-data-dir=\(profile)", "--run-all-compositor-stages-before-draw", "--virtual-time-budget=2000"]
            + arguments + ["file://\(absolute(page))"]
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning {
            process.terminate()
            throw CLIError("chromium did not finish within 120 s.")
        }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: absolute(output)),
              (attributes[.size] as? NSNumber)?.intValue ?? 0 > 0 else {
            throw CLIError("chromium wrote no \(output) (exit \(process.terminationStatus)): \(message.suffix(400))")
        }
    }
}

/// The sign's text: controller and contact, purpose, that card and PIN always work at this gate, how to withdraw and
/// delete, then the notice in force, word for word, with its version and hash.
struct GateSign {
    var configuration: DaemonConfiguration
    var zh: Notice
    var en: Notice

    func column(_ l: Language, _ notice: Notice) -> String {
        let compliance = configuration.compliance
        let doors = configuration.doors.map { door -> String in
            let methods = door.methods.subtracting([.face]).sorted { $0.rawValue < $1.rawValue }.map { method -> String in
                switch method {
                case .card: l.t("card", "门卡")
                case .pin: l.t("PIN", "密码")
                default: method.rawValue
                }
            }
            return l.t("\(door.name): \(methods.joined(separator: " and "))\(door.methods.contains(.face) ? " (face optional)" : "")",
                       "\(door.name)：\(methods.joined(separator: "、"))\(door.methods.contains(.face) ? "（人脸可选）" : "")")
        }
        let purpose = compliance.purpose ?? l.t("entry to this compound for residents who chose face recognition",
                                                "供自愿选择人脸识别的住户进入本小区")
        let rows: [(String, String)] = [
            (l.t("Controller", "个人信息处理者"), compliance.controller ?? l.t("the property management of this compound", "本小区物业服务企业")),
            (l.t("Contact", "联系方式"), compliance.contact ?? l.t("the property management office", "物业服务中心")),
            (l.t("Purpose", "处理目的"), purpose),
            (l.t("Card and PIN always work here", "门卡与密码始终可用"), doors.joined(separator: l.t("; ", "；"))),
            (l.t("Withdraw or delete", "撤回与删除"),
             l.t("at the management office or at the gate, in one step: your face templates are deleted at once; card and PIN keep working. Ask there for a copy or erasure of your data.",
                 "在物业服务中心或门禁处一步撤回：人脸模板立即删除，门卡与密码继续有效。亦可在此索取副本或要求删除您的信息。")),
        ]
        var html = "<section class=\"column\" lang=\"\(l == .zh ? "zh-CN" : "en")\">"
        html += "<h1>\(l.t("Face recognition at this gate", "本门禁使用人脸识别"))</h1>"
        html += "<p class=\"lead\">\(l.t("Optional. Card and PIN always work at this gate, with no extra steps.", "自愿选择。本门禁始终可用门卡或密码通行，无需额外步骤。"))</p><dl>"
        for (term, text) in rows { html += "<dt>\(escapeHTML(term))</dt><dd>\(escapeHTML(text))</dd>" }
        html += "</dl><h2>\(l.t("Notice", "告知书")) v\(escapeHTML(notice.version))</h2><div class=\"notice\">"
        // Paragraphs are blank-line separated; the file's own line breaks inside one are not the sign's.
        html += notice.text.components(separatedBy: "\n\n").map { paragraph in
            let lines = paragraph.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            return "<p>\(escapeHTML(lines.joined(separator: l == .zh ? "" : " ")))</p>"
        }.joined()
        html += "</div><p class=\"hash\">sha256 \(notice.sha256)</p></section>"
        return html
    }

    var html: String {
        """
        <!DOCTYPE html>
        <html lang="zh-CN"><head><meta charset="utf-8"><title>人脸识别告示 / Face recognition notice</title>
        <style>
        @page { size: A4 portrait; margin: 12mm; }
        html, body { margin: 0; background: #fff; }
        body { font-family: "Noto Sans CJK SC", "Noto Serif CJK SC", "DejaVu Sans", sans-serif; color: #111; padding: 10mm; }
        .sign { display: flex; gap: 8mm; }
        .column { flex: 1; border: 3px solid #0a5; border-radius: 6px; padding: 6mm; }
        h1 { font-size: 22pt; margin: 0 0 3mm; color: #064; } h2 { font-size: 12pt; margin: 5mm 0 2mm; }
        .lead { font-size: 14pt; font-weight: bold; background: #e6f6ee; padding: 3mm; border-radius: 4px; }
        dt { font-weight: bold; margin-top: 2mm; font-size: 11pt; } dd { margin: 0 0 1mm 0; font-size: 11pt; }
        .notice p { font-size: 8.5pt; margin: 1.2mm 0; line-height: 1.35; }
        .hash { font-size: 7pt; color: #555; word-break: break-all; }
        </style></head><body><div class="sign">
        \(column(.zh, zh))
        \(column(.en, en))
        </div></body></html>

        """
    }
}
