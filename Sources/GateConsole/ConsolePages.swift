import Foundation
import GateStore
import HTTPTypes
import Hummingbird
import Mustache

/// Server-rendered pages: Mustache templates and static files from the target's resources (or
/// `$OPTGATE_CONSOLE_RESOURCES`, or `/usr/share/optgate/console`). `{{…}}` escapes HTML, so names are data.
public struct ConsolePages: Sendable {
    let library: MustacheLibrary
    let staticFiles: [String: (type: String, bytes: ByteBuffer)]

    public init() async throws {
        let directory = Self.resourceDirectory()
        library = try await MustacheLibrary(directory: "\(directory)/templates")
        var files: [String: (String, ByteBuffer)] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "\(directory)/static")) ?? [] {
            guard let data = FileManager.default.contents(atPath: "\(directory)/static/\(name)") else { continue }
            let type = name.hasSuffix(".js") ? "text/javascript; charset=utf-8" : name.hasSuffix(".css") ? "text/css; charset=utf-8" : "application/octet-stream"
            files[name] = (type, ByteBuffer(bytes: data))
        }
        staticFiles = files
    }

    static func resourceDirectory() -> String {
        if let directory = ProcessInfo.processInfo.environment["OPTGATE_CONSOLE_RESOURCES"] { return directory }
        // The build's resource bundle sits next to the executable (SwiftPM), so no Bundle.module (which aborts
        // when the bundle is missing).
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
        for candidate in ["\(executable)/optgate_GateConsole.resources/Resources", "\(executable)/optgate_GateConsole.resources",
                          "/usr/share/optgate/console"] where FileManager.default.fileExists(atPath: "\(candidate)/templates") {
            return candidate
        }
        return "/usr/share/optgate/console"
    }

    /// The page `template` with `data`, the language's words as `t`, and the session's user, role and CSRF token.
    func page(_ template: String, _ data: [String: Any], context: ConsoleContext, status: HTTPResponse.Status = .ok) -> Response {
        var values = data
        values["t"] = ConsoleStrings.table(context.language)
        values["lang"] = context.language
        values["highContrast"] = context.highContrast
        if let session = context.session {
            values["session"] = ["user": session.user, "role": ConsoleStrings.table(context.language)[session.role.rawValue] ?? session.role.rawValue,
                                 "csrf": session.csrf]
            values["can"] = Dictionary(uniqueKeysWithValues: [
                ("residents", [.manager, .auditor].contains(session.role)),
                ("doors", [.manager, .guard].contains(session.role)),
                ("visitors", [.manager, .guard].contains(session.role)),
                ("users", session.role == .administrator),
                ("manage", session.role == .manager),
                ("audit", [.administrator, .manager, .auditor].contains(session.role)),
                ("evidence", [.manager, .auditor].contains(session.role)),
            ])
        }
        let html = library.render(values, withTemplate: template) ?? "template \(template) is missing"
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    func staticFile(_ name: String) -> Response? {
        guard let file = staticFiles[name] else { return nil }
        return Response(status: .ok, headers: [.contentType: file.type, .cacheControl: "no-cache"], body: ResponseBody(byteBuffer: file.bytes))
    }

    /// What a refused request gets: sign-in for no session (a redirect for pages, 401 for the live feed), 403
    /// pages for a role or CSRF refusal, 429 for too many attempts.
    func refusal(_ refusal: ConsoleRefusal, request: Request, context: ConsoleContext) -> Response {
        switch refusal {
        case .notSignedIn:
            if request.method == .get, request.uri.path != "/live" {
                return Response(status: .seeOther, headers: [.location: "/login"])
            }
            return page("message", ["message": ConsoleStrings.table(context.language)["login"] ?? ""], context: context, status: .unauthorized)
        case .forbidden:
            return page("message", ["message": ConsoleStrings.table(context.language)["forbidden"] ?? ""], context: context, status: .forbidden)
        case .crossSite:
            return page("message", ["message": ConsoleStrings.table(context.language)["crossSite"] ?? ""], context: context, status: .forbidden)
        case .tooManyAttempts:
            return page("login", ["error": ConsoleStrings.table(context.language)["tooMany"] ?? ""], context: context, status: .tooManyRequests)
        case .notFound:
            return page("message", ["message": ConsoleStrings.table(context.language)["notFound"] ?? ""], context: context, status: .notFound)
        }
    }

    /// A sentence for a store or daemon error, on the page it belongs to.
    func failure(_ error: any Error, context: ConsoleContext) -> Response {
        page("message", ["message": "\(ConsoleStrings.table(context.language)["error"] ?? ""): \(error)"], context: context, status: .badRequest)
    }
}
