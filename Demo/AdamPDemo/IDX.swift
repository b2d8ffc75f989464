#if BLAS
import Foundation

/// MNIST's IDX format (http://yann.lecun.com/exdb/mnist/): a big-endian
/// header (magic 0x00000803 for images, 0x00000801 for labels, then the
/// dimensions as 32-bit counts) followed by unsigned bytes. A folder holds
/// the four files MNIST and Fashion-MNIST ship, uncompressed.
public enum IDX {
    public static let files = (trainImages: "train-images-idx3-ubyte", trainLabels: "train-labels-idx1-ubyte",
                               testImages: "t10k-images-idx3-ubyte", testLabels: "t10k-labels-idx1-ubyte")

    /// The training and test sets in `folder`, pixels scaled to [0, 1] and
    /// then standardised with the training set's mean and deviation.
    /// - Throws: `DemoError.badData` naming the file and what is wrong: missing,
    ///   gzip-compressed, wrong magic, truncated or too long, image and label
    ///   counts that differ, test images of another size than the training ones.
    public static func load(folder: URL) throws -> (train: Dataset, test: Dataset) {
        let (trainImages, rows, cols) = try images(folder.appendingPathComponent(files.trainImages))
        let trainLabels = try labels(folder.appendingPathComponent(files.trainLabels))
        let (testImages, testRows, testCols) = try images(folder.appendingPathComponent(files.testImages))
        let testLabels = try labels(folder.appendingPathComponent(files.testLabels))
        // The sizes first: the test set's count is then its own (with the
        // training images' size, 7x7 test images were counted wrong).
        guard (testRows, testCols) == (rows, cols) else {
            throw DemoError.badData(file: folder.appendingPathComponent(files.testImages).path,
                                    problem: "images are \(testRows)x\(testCols), the training images \(rows)x\(cols)")
        }
        let dimension = rows * cols
        for (what, images, labels) in [("training", trainImages, trainLabels), ("test", testImages, testLabels)]
        where images.count / dimension != labels.count {
            throw DemoError.badData(file: folder.path, problem: "the \(what) set has \(images.count / dimension) images but \(labels.count) labels")
        }
        guard !trainLabels.isEmpty else {
            throw DemoError.badData(file: folder.appendingPathComponent(files.trainLabels).path, problem: "holds no examples")
        }
        let classes = Int((trainLabels + testLabels).max()!) + 1
        let pixels = trainImages.map { Double($0) / 255 }
        let mean = pixels.reduce(0, +) / Double(pixels.count)
        let sd = max(1e-6, (pixels.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(pixels.count)).squareRoot())
        func set(_ images: [UInt8], _ labels: [UInt8]) -> Dataset {
            Dataset(features: images.map { Float((Double($0) / 255 - mean) / sd) }, labels: labels.map(Int32.init),
                    dimension: dimension, classes: classes)
        }
        return (set(trainImages, trainLabels), set(testImages, testLabels))
    }

    /// The pixels of an idx3 file, and the images' rows and columns.
    static func images(_ url: URL) throws -> (pixels: [UInt8], rows: Int, cols: Int) {
        let (dims, body) = try read(url, magic: 0x0000_0803, dimensions: 3, kind: "images")
        guard dims[1] > 0, dims[2] > 0 else {
            throw DemoError.badData(file: url.path, problem: "images of \(dims[1])x\(dims[2]) pixels")
        }
        return (body, dims[1], dims[2])
    }

    /// The labels of an idx1 file.
    static func labels(_ url: URL) throws -> [UInt8] { try read(url, magic: 0x0000_0801, dimensions: 1, kind: "labels").body }

    private static func read(_ url: URL, magic: UInt32, dimensions: Int, kind: String) throws -> (dims: [Int], body: [UInt8]) {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DemoError.badData(file: url.path, problem: "no such file (\(kind) in MNIST's IDX format, uncompressed, are expected here)")
        }
        let data: [UInt8]
        do { data = try [UInt8](Data(contentsOf: url)) } catch {
            throw DemoError.badData(file: url.path, problem: "cannot be read: \(error.localizedDescription)")
        }
        if data.starts(with: [0x1F, 0x8B]) {
            throw DemoError.badData(file: url.path, problem: "is gzip-compressed: gunzip it first")
        }
        let header = 4 + 4 * dimensions
        guard data.count >= header else {
            throw DemoError.badData(file: url.path, problem: "is \(data.count) bytes, shorter than an IDX header for \(kind) (\(header))")
        }
        func word(_ i: Int) -> UInt32 { data[i..<i + 4].reduce(0) { $0 << 8 | UInt32($1) } }
        guard word(0) == magic else {
            throw DemoError.badData(file: url.path, problem: String(format: "magic number is 0x%08X, expected 0x%08X (IDX %@)", word(0), magic, kind))
        }
        let dims = (0..<dimensions).map { Int(word(4 + 4 * $0)) }
        let (expected, overflow) = dims.reduce((1, false)) { acc, d in
            let (p, o) = acc.0.multipliedReportingOverflow(by: d)
            return (p, acc.1 || o)
        }
        guard !overflow else {
            throw DemoError.badData(file: url.path, problem: "the header's sizes (\(dims.map(String.init).joined(separator: " x "))) are larger than any file")
        }
        guard data.count - header == expected else {
            let what = data.count - header < expected ? "truncated" : "longer than its header says"
            throw DemoError.badData(file: url.path, problem: "\(what): the header (\(dims.map(String.init).joined(separator: " x "))) needs \(expected) bytes of data, the file has \(data.count - header)")
        }
        return (dims, Array(data[header...]))
    }
}
#endif
