// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "selectjob",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "selectjob", targets: ["selectjob"]),
        // The same `run` across processes and nodes with Open MPI (`mpirun`, `srun`); needs libopenmpi.
        .executable(name: "selectjob-mpi", targets: ["selectjob-mpi"]),
        .executable(name: "demo-features", targets: ["demo-features"]),
        .executable(name: "selectjob-bench", targets: ["SelectJobBenchmarks"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
        .package(url: "https://github.com/apple/swift-collections", exact: "1.6.0"),
        .package(url: "https://github.com/apple/swift-numerics", exact: "1.1.1"),
    ],
    targets: [
        // C libraries, each wrapped once: a system-library target with a shim header, then typed Swift.
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5",
                       providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        // zlib: deflated HDF5 chunks and .npz members (through Compression), and the browser test's PNGs.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .target(name: "Compression", dependencies: ["CZlib"]),
        .target(name: "HDF5", dependencies: ["CHDF5", "Compression"]),
        .target(name: "MPI", dependencies: ["CMPI"]),
        .target(name: "OpenBLAS", dependencies: ["CBLAS"]),

        // Math only: no files, no database.
        .target(name: "Selection", dependencies: [
            "OpenBLAS", .product(name: "HeapModule", package: "swift-collections"),
        ]),
        // Feature files in (and out, for tests and demo data).
        .target(name: "FeatureIO", dependencies: [
            "HDF5", "Compression", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The SQLite result store; knows nothing of the math.
        .target(name: "Store", dependencies: [.product(name: "GRDB", package: "GRDB.swift")]),
        // What people and the fine-tuning stage read: run tables, reports, exports, diffs.
        .target(name: "Reporting", dependencies: ["Store", "Selection", "HDF5"]),
        // Job specification, validation and the run pipeline that wires the layers together.
        .target(name: "Jobs", dependencies: [
            "Selection", "FeatureIO", "Store",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The commands; the executables only wire them (selectjob-mpi passes its MPI process group).
        .target(name: "SelectJobCommands", dependencies: [
            "Jobs", "FeatureIO", "Selection", "Reporting", "Store",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "selectjob", dependencies: ["SelectJobCommands"]),
        .executableTarget(name: "selectjob-mpi", dependencies: [
            "SelectJobCommands", "Jobs", "MPI", "Selection", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Synthetic labelled features for the demo job and the benchmarks.
        .target(name: "SyntheticData", dependencies: ["Selection"]),
        .executableTarget(name: "demo-features", dependencies: [
            "HDF5", "SyntheticData",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The benchmark suite (`make bench`), apart from the tests.
        .executableTarget(name: "SelectJobBenchmarks", dependencies: [
            "OpenBLAS", "FeatureIO", "HDF5", "Reporting", "Selection", "Store", "SyntheticData",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Benchmarks/SelectJobBenchmarks"),

        // What the test targets share: temporary folders, workspaces with generated pools and job
        // files, and the runner of the built binaries.
        .target(name: "TestSupport", dependencies: [
            "FeatureIO", "HDF5", "SyntheticData", .product(name: "GRDB", package: "GRDB.swift"),
        ], path: "Tests/TestSupport"),
        .testTarget(name: "SelectionTests", dependencies: [
            "Selection", "FeatureIO", .product(name: "Numerics", package: "swift-numerics"),
        ]),
        .testTarget(name: "FeatureIOTests", dependencies: ["FeatureIO", "HDF5", "TestSupport"]),
        .testTarget(name: "StoreTests", dependencies: [
            "Store", "TestSupport", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting", "Selection", "Store", "HDF5", "TestSupport"]),
        .testTarget(name: "JobsTests", dependencies: [
            "Jobs", "TestSupport", "FeatureIO", "HDF5", "Store", .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "EndToEndTests", dependencies: [
            "TestSupport", "OpenBLAS", "HDF5", "FeatureIO", "Jobs", "Selection", "SyntheticData", "Compression", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
    ]
)
