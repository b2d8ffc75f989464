/// Parameter shapes of real models, in the order the models list them.
enum Models {
    /// torchvision's resnet50: 25,557,032 parameters in 161 tensors.
    static func resnet50() -> [[Int]] { resnet(blocks: [3, 4, 6, 3], bottleneck: true) }

    /// torchvision's resnet18: 11,689,512 parameters in 62 tensors.
    static func resnet18() -> [[Int]] { resnet(blocks: [2, 2, 2, 2], bottleneck: false) }

    static func resnet(blocks: [Int], bottleneck: Bool) -> [[Int]] {
        var shapes: [[Int]] = [[64, 3, 7, 7], [64], [64]]
        func convBN(_ out: Int, _ inp: Int, _ k: Int) { shapes += [[out, inp, k, k], [out], [out]] }
        var inplanes = 64
        let expansion = bottleneck ? 4 : 1
        for (stage, count) in blocks.enumerated() {
            let planes = 64 << stage
            for b in 0..<count {
                if bottleneck {
                    convBN(planes, inplanes, 1)
                    convBN(planes, planes, 3)
                    convBN(planes * 4, planes, 1)
                } else {
                    convBN(planes, inplanes, 3)
                    convBN(planes, planes, 3)
                }
                if b == 0 && (stage > 0 || inplanes != planes * expansion) { convBN(planes * expansion, inplanes, 1) }
                inplanes = planes * expansion
            }
        }
        shapes += [[1000, inplanes], [1000]]
        return shapes
    }

    static let all: [String: @Sendable () -> [[Int]]] = ["resnet50": resnet50, "resnet18": resnet18]
}
