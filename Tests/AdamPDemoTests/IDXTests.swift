#if BLAS
import Foundation
import Testing
@testable import AdamPDemo

/// MNIST-format files written here: a reader that accepts the format and
/// refuses, naming the file, what is not.
@Suite struct IDXTests {
    static func idx(magic: UInt32, dims: [UInt32], body: [UInt8]) -> Data {
        var d = Data()
        for w in [magic] + dims { d += withUnsafeBytes(of: w.bigEndian) { Data($0) } }
        return d + Data(body)
    }
    static func images(_ n: Int, _ r: Int, _ c: Int) -> Data {
        idx(magic: 0x803, dims: [UInt32(n), UInt32(r), UInt32(c)], body: (0..<n * r * c).map { UInt8($0 % 251) })
    }
    static func labels(_ values: [UInt8]) -> Data { idx(magic: 0x801, dims: [UInt32(values.count)], body: values) }

    func folder(_ files: [String: Data]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("idx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (name, data) in files { try data.write(to: url.appendingPathComponent(name)) }
        return url
    }
    var good: [String: Data] {
        [IDX.files.trainImages: IDXTests.images(6, 3, 2), IDX.files.trainLabels: IDXTests.labels([0, 1, 2, 3, 4, 0]),
         IDX.files.testImages: IDXTests.images(2, 3, 2), IDX.files.testLabels: IDXTests.labels([1, 2])]
    }

    @Test func readsTheFourFiles() throws {
        let dir = try folder(good)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (train, test) = try IDX.load(folder: dir)
        #expect(train.count == 6 && test.count == 2 && train.dimension == 6 && train.classes == 5)
        #expect(train.labels == [0, 1, 2, 3, 4, 0] && test.labels == [1, 2])
        let mean = train.features.reduce(0, +) / Float(train.features.count)
        #expect(abs(mean) < 1e-5)   // standardised with the training set's statistics
        #expect(DataSource.idx(folder: dir).fingerprint.contains(dir.lastPathComponent))
    }

    @Test(arguments: [
        ("missing", IDX.files.testLabels, nil, "no such file"),
        ("gzip", IDX.files.trainImages, Data([0x1F, 0x8B, 8, 0, 0, 0]), "gzip-compressed"),
        ("magic", IDX.files.trainImages, IDXTests.labels([1, 2, 3, 4, 5, 6, 7, 8]), "magic number is 0x00000801, expected 0x00000803"),
        ("short header", IDX.files.trainLabels, Data([0, 0, 8]), "shorter than an IDX header"),
        ("truncated", IDX.files.trainImages, IDXTests.images(6, 3, 2).dropLast(), "truncated"),
        ("too long", IDX.files.testLabels, IDXTests.labels([1, 2]) + Data([7]), "longer than its header says"),
        ("counts", IDX.files.trainLabels, IDXTests.labels([0, 1, 2]), "has 6 images but 3 labels"),
        ("sizes", IDX.files.testImages, IDXTests.images(2, 2, 3), "images are 2x3, the training images 3x2"),
        // Other sizes and so another count of pixels: said as such (it was
        // "the test set has 1 images but 2 labels", both false).
        ("other sizes", IDX.files.testImages, IDXTests.images(2, 2, 2), "images are 2x2, the training images 3x2"),
        ("huge", IDX.files.trainImages, IDXTests.idx(magic: 0x803, dims: [.max, .max, .max], body: []), "larger than any file"),
    ] as [(String, String, Data?, String)])
    func refusesWhatIsWrong(_ what: String, file: String, content: Data?, message: String) throws {
        var files = good
        files[file] = content
        let dir = try folder(files)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: (any Error).self) { try IDX.load(folder: dir) }
        do { _ = try IDX.load(folder: dir) } catch {
            #expect("\(error)".contains(message), "\(what): \(error)")
            #expect("\(error)".contains(dir.path), "\(what): \(error)")
        }
    }
}
#endif
