// swift-tools-version: 6.1
import PackageDescription

let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "optgate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "optgated", targets: ["optgated"]),
        .executable(name: "optgate", targets: ["optgate"]),
        .executable(name: "optgate-console", targets: ["optgate-console"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // The manager's console (docs/console.md): HTTP server and server-rendered templates.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // The console's TLS on LAN addresses (docs/console.md#tls): its own CA and server certificate, served by NIOSSL.
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        .target(name: "GateCore", swiftSettings: upcoming),
        .target(
            name: "GateStore",
            dependencies: [
                "GateCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            resources: [.copy("Notices/face-recognition.v1.en.txt"), .copy("Notices/face-recognition.v1.zh.txt")],
            swiftSettings: upcoming
        ),
        // The control protocol in one place (messages, line framing, client, server) and what both
        // executables share; no hardware module, so the CLI links none.
        .target(
            name: "GateControl",
            dependencies: ["GateCore", "CGateShims", .product(name: "Logging", package: "swift-log")],
            swiftSettings: upcoming
        ),
        .target(name: "CGateShims"),
        // The fleet hub (docs/fleet.md): PostgreSQL schema, migrations and the management/sync queries,
        // shared by the CLI (`optgate --hub`) and the daemon's sync service. No face template anywhere.
        .target(
            name: "GateHub",
            dependencies: [
                "GateCore", "GateStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        // The daemon's configuration (strict JSON, every section's parsing), read by the daemon and the CLI.
        .target(name: "GateConfiguration", dependencies: ["GateCore"], swiftSettings: upcoming),
        // Credential readers (docs/readers.md): evdev/uinput ioctl wrappers, and the PC/SC client library.
        .target(name: "CEvdev"),
        // Not pkgConfig: libpcsclite.pc adds -pthread, which SwiftPM refuses with a warning on every build;
        // the include path is given to GateServices, the only importer.
        .systemLibrary(name: "CPCSCLite", providers: [.apt(["libpcsclite-dev"])]),
        // MJPEG / JPEG -> BGR through the system libjpeg-turbo.
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        // OpenCV dnn + dlib behind a plain-C header. -O2 even in debug builds: dlib's header-only network
        // is unusably slow at -O0 (the flag comes after SwiftPM's -O0, so it wins).
        .target(
            name: "CFaceVision",
            cxxSettings: [.unsafeFlags(["-I/usr/include/opencv4", "-O2", "-DNDEBUG"])],
            linkerSettings: [
                .linkedLibrary("opencv_dnn"), .linkedLibrary("opencv_imgproc"), .linkedLibrary("opencv_core"),
                .linkedLibrary("dlib"), .linkedLibrary("blas"), .linkedLibrary("lapack"),
                // Visitor QR passes (cqr.h): zxing-cpp reads and writes QR codes, libpng their image files.
                .linkedLibrary("ZXing"), .linkedLibrary("png16"),
            ]
        ),
        .target(name: "FaceVision", dependencies: ["CFaceVision", "CTurboJPEG"], swiftSettings: upcoming),
        // The configured face pipeline (models, quality gates, enrolment rules), shared by the recogniser and
        // the CLI's photo enrolment.
        .target(name: "GateFace", dependencies: ["FaceVision", "GateCore", "GateConfiguration"], swiftSettings: upcoming),
        .executableTarget(name: "make-replay", dependencies: ["FaceVision"], swiftSettings: upcoming),
        .executableTarget(
            name: "optgate-bench",
            dependencies: ["FaceVision", "GateCore", "GateStore", "GateServices", "GateConfiguration", "GateFace", "GateHub",
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "PostgresNIO", package: "postgres-nio")],
            swiftSettings: upcoming
        ),
        .target(name: "SystemdNotify", swiftSettings: upcoming),
        // Camera and door I/O (docs/hardware.md): thin C glue, typed Swift wrappers.
        .systemLibrary(name: "CV4L2", pkgConfig: "libv4l2", providers: [.apt(["libv4l-dev"])]),
        .target(name: "V4L2", dependencies: ["CV4L2"], swiftSettings: upcoming),
        .systemLibrary(name: "CGPIOD", pkgConfig: "libgpiod", providers: [.apt(["libgpiod-dev"])]),
        .target(name: "CGPIOShim", dependencies: ["CGPIOD"]),
        .target(name: "GPIO", dependencies: ["CGPIOShim"], swiftSettings: upcoming),
        // OSDP v2 control panel (docs/readers.md#osdp): pure framing, secure channel and link state; the
        // serial line (termios) through a small C shim.
        .target(
            name: "OSDP",
            dependencies: ["GateCore", .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "_CryptoExtras", package: "swift-crypto")],
            swiftSettings: upcoming
        ),
        .target(name: "CSerial"),
        // What both executables need of an OSDP line: pairing (`optgate reader pair`) and the per-reader keys.
        .target(name: "OSDPLine", dependencies: ["OSDP", "CSerial"], swiftSettings: upcoming),
        .target(
            name: "GateServices",
            dependencies: [
                "GateCore", "GateStore", "GateControl", "GateConfiguration", "GateFace", "CGateShims", "SystemdNotify",
                "FaceVision", "V4L2", "GPIO", "OSDP", "OSDPLine", "CSerial",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                "CEvdev", "CPCSCLite", "GateHub",
            ],
            // CPCSCLite: pcsc-lite's headers include each other by bare name from /usr/include/PCSC.
            swiftSettings: upcoming + [.unsafeFlags(["-Xcc", "-I/usr/include/PCSC"])]
        ),
        .executableTarget(
            name: "optgated",
            dependencies: [
                "GateServices", "GateHub", "GateStore", "GateCore", "GateControl", "GateConfiguration", "GateFace", "SystemdNotify",
                "GPIO", "FaceVision",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: upcoming
        ),
        .executableTarget(
            name: "optgate",
            // No GateServices, GPIO, V4L2, CEvdev or CPCSCLite: the CLI links no hardware library
            // (CLILinkageTests checks the binary).
            dependencies: [
                "GateStore", "GateControl", "GateCore", "GateConfiguration", "GateFace", "FaceVision", "OSDPLine", "GateHub",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        // The manager's console in the browser (docs/console.md): routes, sessions, roles and pages over the same
        // store API as the CLI and the daemon's control socket; a library so tests can drive it.
        .target(
            name: "GateConsole",
            dependencies: [
                "GateStore", "GateControl", "GateCore", "FaceVision", "GateConfiguration", "GateHub",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("Resources")],
            swiftSettings: upcoming
        ),
        .executableTarget(
            name: "optgate-console",
            dependencies: [
                "GateConsole", "GateControl", "GateStore", "GateHub",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(name: "FaceVisionTests", dependencies: ["FaceVision"], swiftSettings: upcoming),
        // Device tests: V4L2 and GPIO against vivid/v4l2loopback/gpio-sim, the uinput wedge reader and PIN pad
        // against the real daemon. Each skips itself with a reason unless its device exists (the QEMU guest).
        .testTarget(
            name: "DeviceTests",
            dependencies: ["V4L2", "GPIO", "GateServices", "GateConfiguration", "GateStore", "FaceVision", "GateCore", "CEvdev", "optgated", "optgate",
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: upcoming
        ),
        .testTarget(name: "SystemdNotifyTests", dependencies: ["SystemdNotify"], swiftSettings: upcoming),
        .testTarget(name: "GateCoreTests", dependencies: ["GateCore"], swiftSettings: upcoming),
        .testTarget(
            name: "GateStoreTests",
            dependencies: ["GateStore", "GateCore", "GateConfiguration", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["GateControl", "GateCore", "GateServices", "FaceVision", "optgated", "optgate", "make-replay"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "FleetTests",
            dependencies: ["GateHub", "GateStore", "GateCore", "GateConfiguration", "optgate", "optgated",
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: upcoming
        ),
        .testTarget(name: "OSDPTests", dependencies: ["OSDP", "GateCore"], swiftSettings: upcoming),
        .testTarget(
            name: "ReaderTests",
            dependencies: ["GateServices", "GateConfiguration", "GateCore", "GateStore", "CEvdev", "CSerial", "OSDPLine"],
            swiftSettings: upcoming
        ),
    ],
    cxxLanguageStandard: .cxx17
)
