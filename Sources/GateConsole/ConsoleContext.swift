public import Hummingbird
public import GateStore

/// The request context of every console route: the signed-in session (set by `ConsoleGuard`), the cookie
/// token it came from, and the fields of a form posted to the route (read once by the guard for the CSRF check).
public struct ConsoleContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var session: ConsoleSession?
    public var token: String?
    public var form: [String: String] = [:]
    /// `zh` or `en`, from the `lang` cookie (default `zh`).
    public var language = "zh"
    /// High contrast and large text, from the `display` cookie (`/display/contrast`, `/display/normal`).
    public var highContrast = false

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
    }

    /// The session, when its role is one of `roles`. - Throws: `ConsoleRefusal.forbidden` otherwise (403).
    func require(_ roles: ConsoleRole...) throws -> ConsoleSession {
        guard let session else { throw ConsoleRefusal.notSignedIn }
        guard roles.contains(session.role) else { throw ConsoleRefusal.forbidden }
        return session
    }
}

/// Why the console refused a request before running it.
enum ConsoleRefusal: Error {
    case notSignedIn
    /// The role may not use the route (403).
    case forbidden
    /// A state change without the session's CSRF token or from another origin (403).
    case crossSite
    /// Too many sign-in attempts (429).
    case tooManyAttempts
    case notFound
}
