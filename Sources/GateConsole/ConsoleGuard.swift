import Foundation
import GateStore
import HTTPTypes
public import Hummingbird
import Logging
import Synchronization

/// The one place every request passes: security headers on every answer; no route but sign-in, setup,
/// language and static files without a live session; every state change (any method but GET/HEAD) only
/// from the console's own origin and with the session's CSRF token.
public struct ConsoleGuard: RouterMiddleware {
    public typealias Context = ConsoleContext

    let database: GateDatabase
    let policy: ConsoleAccountPolicy
    let pages: ConsolePages
    /// Served over HTTPS (ConsoleTLS): an `http://` Origin is then another origin.
    var tls = false

    /// Paths answered without a session.
    static func isPublic(_ path: String) -> Bool {
        path == "/login" || path == "/setup" || path.hasPrefix("/static/") || path.hasPrefix("/lang/") || path == "/ca.crt" || path.hasPrefix("/display/")
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        var request = request
        context.language = request.cookies["lang"]?.value == "en" ? "en" : "zh"
        context.highContrast = request.cookies["display"]?.value == "contrast"
        var response: Response
        do {
            if let token = request.cookies[ConsoleCookie.session]?.value, token.count == 64 {
                context.token = token
                context.session = try database.consoleSession(token: token, policy: policy)
            }
            let path = request.uri.path
            if context.session == nil, !Self.isPublic(path) { throw ConsoleRefusal.notSignedIn }
            if request.method != .get, request.method != .head {
                // Same origin only: a browser always sends Origin on a cross-site POST, and this console's forms
                // and scripts always post to their own origin.
                guard let origin = request.headers[.origin], let host = request.head.authority,
                      origin == "https://\(host)" || (!tls && origin == "http://\(host)")
                else { throw ConsoleRefusal.crossSite }
                let body = try await request.collectBody(upTo: 256 * 1024)
                context.form = FormFields.parse(String(buffer: body))
                // Sign-in and setup have no session yet; every other change must carry the session's token.
                if path != "/login", path != "/setup" {
                    let sent = context.form["csrf"] ?? request.headers[HTTPField.Name("X-CSRF-Token")!] ?? ""
                    guard let session = context.session, FormFields.constantTimeEqual(sent, session.csrf) else {
                        throw ConsoleRefusal.crossSite
                    }
                }
            }
            response = try await next(request, context)
        } catch let refusal as ConsoleRefusal {
            response = pages.refusal(refusal, request: request, context: context)
        } catch let error as HTTPError where error.status == .notFound {
            response = pages.refusal(.notFound, request: request, context: context)
        } catch let error as HTTPError {
            response = Response(status: error.status)
        } catch {
            // Store and daemon errors read as sentences (GateStoreError, VisitorPassError…): shown, with the headers.
            context.logger.error("console.request.failed", metadata: ["error.type": "\(type(of: error))"])
            response = pages.failure(error, context: context)
        }
        Self.secure(&response.headers)
        return response
    }

    /// Headers every console answer carries (docs/console.md#security).
    static func secure(_ headers: inout HTTPFields) {
        headers[.contentSecurityPolicy] = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        // same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on its own form posts.
        headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        headers[HTTPField.Name("Cross-Origin-Opener-Policy")!] = "same-origin"
        if headers[.cacheControl] == nil { headers[.cacheControl] = "no-store" }
    }
}

enum ConsoleCookie {
    static let session = "optgate_session"

    /// `HttpOnly; Secure; SameSite=Strict`: never readable by script, never sent cross-site. Browsers accept
    /// `Secure` cookies from http://localhost; on a LAN address the console needs TLS (docs/console.md).
    static func session(_ token: String, maxAge: Int) -> Cookie {
        Cookie(name: session, value: token, maxAge: maxAge, path: "/", secure: true, httpOnly: true, sameSite: .strict)
    }
}

/// `application/x-www-form-urlencoded` bodies.
enum FormFields {
    static func parse(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]) else { continue }
            fields[name] = parts.count > 1 ? decode(parts[1]) ?? "" : ""
        }
        return fields
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let a = Array(a.utf8), b = Array(b.utf8)
        guard a.count == b.count, !a.isEmpty else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

/// Bounds sign-in attempts before any password is checked: per account name and for the whole console, in
/// fixed one-minute windows. The account lockout (`ConsoleAccountPolicy.lockoutAfter`) is the lasting limit;
/// this one keeps a guessing script from spending the box's CPU on scrypt.
final class LoginRateLimiter: Sendable {
    let perName: Int
    let overall: Int
    private let state = Mutex<(window: Int64, counts: [String: Int], total: Int)>((0, [:], 0))

    init(perName: Int, overall: Int) {
        self.perName = perName
        self.overall = overall
    }

    /// Counts one attempt. - Returns: whether it may go on.
    func allow(name: String, now: Date = Date()) -> Bool {
        let window = Int64(now.timeIntervalSince1970 / 60)
        return state.withLock { state in
            if state.window != window { state = (window, [:], 0) }
            state.total += 1
            state.counts[name, default: 0] += 1
            return state.total <= overall && state.counts[name, default: 0] <= perName
        }
    }
}
