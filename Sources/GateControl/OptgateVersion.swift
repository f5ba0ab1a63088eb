/// The release both executables report: `optgate --version`, `optgated --version` and `status`.
public enum OptgateVersion {
    public static let string = "0.1.0"
}
