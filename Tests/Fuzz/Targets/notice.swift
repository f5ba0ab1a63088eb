// Fuzz target: what an operator types for `consent grant` and what the notice library reads. The input is
// split at NUL bytes into a notice file name, a notice version, a language, a scope, a consent method,
// a notice text and the gate's door names. Lookups must return the notice asked for (or refuse with a
// sentence), and a scope that passes its check must read back from the consent ledger as it was granted.
// The scope part is compiled when ConsentScope exists (scripts/fuzz defines CONSENT_SCOPE).
import Foundation
import GateCore
import GateStore

let noticeDirectory: String = {
    // The shipped texts in the source tree (scripts/fuzz runs from the repository root).
    let directory = FileManager.default.currentDirectoryPath + "/Sources/GateStore/Notices"
    setenv("OPTGATE_NOTICE_DIR", directory, 1)
    require(!NoticeLibrary.all().isEmpty, "no notice texts in \(directory)")
    return directory
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = noticeDirectory
    let fields = UnsafeBufferPointer(start: data, count: size).split(separator: 0, omittingEmptySubsequences: false)
        .map { String(decoding: $0, as: UTF8.self) }
    func field(_ index: Int) -> String { index < fields.count ? fields[index] : "" }

    if let file = NoticeFileName(field(0)) {
        require(!file.version.contains(".") && !file.language.contains("."))
    }
    do {
        let notice = try NoticeLibrary.notice(version: field(1), language: field(2))
        require(notice.version == field(1) && notice.language == field(2), "the library returned another notice")
        require(!notice.text.isEmpty)
    } catch {
        require(!error.description.isEmpty)
    }
#if CONSENT_SCOPE
    // `consent grant --scope`: the scope is checked against the gate's doors (field 6, comma-separated),
    // stored comma-joined in the consent ledger and read back from there. What passes the check must
    // read back as granted and cover exactly the doors it names.
    let knownDoors = field(6).split(separator: ",").map(String.init)
    let scope = ConsentScope(field(3))
    if scope.problem(knownDoors: knownDoors) == nil {
        let readBack = ConsentScope(scope.doors.joined(separator: ","))
        require(readBack == scope, "the consent ledger would read back another scope than was granted")
        require(!scope.doors.isEmpty && scope.doors.allSatisfy { !$0.isEmpty })
        for door in knownDoors {
            require(scope.covers(door: door) == (scope.isEveryDoor || scope.doors.contains(door)))
        }
        if !scope.isEveryDoor { require(scope.doors.allSatisfy(knownDoors.contains), "a scope names a door the gate lacks") }
    } else {
        require(!(scope.problem(knownDoors: knownDoors) ?? "").isEmpty)
    }
#endif
    _ = ConsentMethod(rawValue: field(4))
    _ = ConsentAction(rawValue: field(4))
    let notice = Notice(version: field(1), language: field(2), text: field(5))
    require(notice == Notice(version: field(1), language: field(2), text: field(5)))
    return 0
}
