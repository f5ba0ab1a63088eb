import Foundation

/// A versioned consent notice (R5). Its version and the SHA-256 of its exact text are pinned in every
/// consent record, so what a resident agreed to can be shown later, word for word.
public struct Notice: Sendable, Hashable {
    public var version: String
    /// `zh` or `en`.
    public var language: String
    public var text: String

    public init(version: String, language: String, text: String) {
        self.version = version
        self.language = language
        self.text = text
    }
}

/// The name of a notice text file, `face-recognition.v<VERSION>.<LANG>.txt`.
public struct NoticeFileName: Sendable, Hashable {
    public var version: String
    public var language: String

    /// - Returns: `nil` for any other file name.
    public init?(_ name: String) {
        let parts = name.split(separator: ".")
        guard parts.count == 4, parts[0] == "face-recognition", parts[1].hasPrefix("v"), parts[3] == "txt" else { return nil }
        version = String(parts[1].dropFirst())
        language = String(parts[2])
    }
}

/// The notice texts shipped with optgate, read from `face-recognition.v<VERSION>.<LANG>.txt` files.
///
/// Looked up in `$OPTGATE_NOTICE_DIR`, next to the executable (the build's resource bundle), then in
/// `/usr/share/optgate/notices`.
public enum NoticeLibrary {
    public static func all() -> [Notice] {
        guard let directory = directory() else { return [] }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return files.sorted().compactMap { name -> Notice? in
            guard let file = NoticeFileName(name), let text = FileManager.default.contents(atPath: "\(directory)/\(name)")
            else { return nil }
            return Notice(version: file.version, language: file.language, text: String(decoding: text, as: UTF8.self))
        }
    }

    public static var versions: [String] { Array(Set(all().map(\.version))).sorted() }

    public static func notice(version: String, language: String) throws(GateStoreError) -> Notice {
        guard let notice = all().first(where: { $0.version == version && $0.language == language }) else {
            throw .unknownNoticeVersion("\(version) (\(language))", available: versions)
        }
        return notice
    }

    static func directory() -> String? {
        var candidates: [String] = []
        if let override = ProcessInfo.processInfo.environment["OPTGATE_NOTICE_DIR"] { candidates.append(override) }
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let folder = (executable as NSString).deletingLastPathComponent
            candidates.append("\(folder)/optgate_GateStore.resources/Notices")
            candidates.append("\(folder)/optgate_GateStore.resources")
        }
        candidates.append("/usr/share/optgate/notices")
        return candidates.first { FileManager.default.fileExists(atPath: "\($0)/face-recognition.v1.en.txt") }
    }
}
