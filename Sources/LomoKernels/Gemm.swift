import CDNNL
import LomoCore
import Synchronization

/// Row-major matrix products on oneDNN.
///
/// Every function computes `C[M, N] = alpha * op(A) * op(B) + beta * C` where `op(A)` is
/// `[M, K]` and `op(B)` is `[K, N]`. A matrix stored as `[K, M]` and used transposed has
/// `transA == true` and leading dimension `lda >= M`; otherwise `lda >= K` (and likewise for B).
/// `beta == 0` overwrites C (its prior contents may be NaN); `beta == 1` accumulates.
public enum Gemm {
  /// f32 x f32 -> f32 through `dnnl_sgemm`.
  public static func f32(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    guard m > 0, n > 0 else { return }
    let status = dnnl_sgemm(
      transA ? 84 : 78, transB ? 84 : 78, dnnl_dim_t(m), dnnl_dim_t(n), dnnl_dim_t(k), alpha,
      a, dnnl_dim_t(lda), b, dnnl_dim_t(ldb), beta, c, dnnl_dim_t(ldc))
    precondition(status == dnnl_success, "dnnl_sgemm failed (\(status)) for M=\(m) N=\(n) K=\(k)")
  }

  /// bf16 x bf16 -> f32 through oneDNN's matmul primitive (cached per shape and layout).
  /// `beta` must be 0 (overwrite) or 1 (accumulate). `alpha` scales the product.
  public static func bf16(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<BFloat16>, lda: Int, b: UnsafePointer<BFloat16>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    guard m > 0, n > 0 else { return }
    precondition(beta == 0 || beta == 1, "bf16 GEMM supports beta 0 or 1, got \(beta)")
    let key = MatmulKey(
      transA: transA, transB: transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc,
      alpha: alpha, accumulate: beta == 1)
    if k == 0 {
      if beta == 0 { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
      return
    }
    BF16Matmuls.shared.run(key, a: UnsafeMutableRawPointer(mutating: a),
                           b: UnsafeMutableRawPointer(mutating: b), c: UnsafeMutableRawPointer(c))
  }
}

struct MatmulKey: Hashable {
  var transA: Bool, transB: Bool
  var m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int
  var alpha: Float
  var accumulate: Bool
}

/// The oneDNN engine, stream and a cache of matmul primitives with their memory objects.
/// Calls are serialised: each primitive's memory objects are rebound to the caller's pointers.
final class BF16Matmuls: Sendable {
  static let shared = BF16Matmuls()

  private struct Prepared {
    var primitive: dnnl_primitive_t
    var src: dnnl_memory_t, weights: dnnl_memory_t, dst: dnnl_memory_t
    var scratch: dnnl_memory_t?
    var scratchBuffer: AlignedBuffer<UInt8>?
  }

  private struct State: @unchecked Sendable {
    var engine: dnnl_engine_t
    var stream: dnnl_stream_t
    var cache: [MatmulKey: Prepared] = [:]
  }

  private let state: Mutex<State>

  private init() {
    var engine: dnnl_engine_t?
    var stream: dnnl_stream_t?
    check(dnnl_engine_create(&engine, dnnl_cpu, 0), "engine")
    check(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue), "stream")
    state = Mutex(State(engine: engine!, stream: stream!))
  }

  func run(_ key: MatmulKey, a: UnsafeMutableRawPointer, b: UnsafeMutableRawPointer,
           c: UnsafeMutableRawPointer) {
    state.withLock { s in
      let p: Prepared
      if let hit = s.cache[key] {
        p = hit
      } else {
        p = Self.prepare(key, engine: s.engine)
        s.cache[key] = p
      }
      check(dnnl_memory_set_data_handle(p.src, a), "bind A")
      check(dnnl_memory_set_data_handle(p.weights, b), "bind B")
      check(dnnl_memory_set_data_handle(p.dst, c), "bind C")
      var args = [
        dnnl_exec_arg_t(arg: DNNL_ARG_SRC, memory: p.src),
        dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS, memory: p.weights),
        dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: p.dst),
      ]
      if let scratch = p.scratch { args.append(dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: scratch)) }
      check(dnnl_primitive_execute(p.primitive, s.stream, Int32(args.count), args), "execute")
      check(dnnl_stream_wait(s.stream), "wait")
    }
  }

  private static func prepare(_ key: MatmulKey, engine: dnnl_engine_t) -> Prepared {
    // op(A) is [M, K]; stored transposed, element (i, j) sits at j*lda + i.
    var srcDesc = dnnl_memory_desc_t()
    var weightsDesc = dnnl_memory_desc_t()
    var dstDesc = dnnl_memory_desc_t()
    check(dnnl_memory_desc_init_by_strides(
      &srcDesc, 2, dims(key.m, key.k), dnnl_bf16,
      key.transA ? dims(1, key.lda) : dims(key.lda, 1)), "A desc")
    check(dnnl_memory_desc_init_by_strides(
      &weightsDesc, 2, dims(key.k, key.n), dnnl_bf16,
      key.transB ? dims(1, key.ldb) : dims(key.ldb, 1)), "B desc")
    check(dnnl_memory_desc_init_by_strides(
      &dstDesc, 2, dims(key.m, key.n), dnnl_f32, dims(key.ldc, 1)), "C desc")

    var desc = dnnl_matmul_desc_t()
    check(dnnl_matmul_desc_init(&desc, &srcDesc, &weightsDesc, nil, &dstDesc), "matmul desc")
    var attr: dnnl_primitive_attr_t?
    check(dnnl_primitive_attr_create(&attr), "attr")
    defer { dnnl_primitive_attr_destroy(attr) }
    check(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "scratchpad")
    if key.alpha != 1 {
      var alpha = key.alpha
      check(dnnl_primitive_attr_set_output_scales(attr, 1, 0, &alpha), "alpha")
    }
    if key.accumulate {
      var ops: dnnl_post_ops_t?
      check(dnnl_post_ops_create(&ops), "post ops")
      defer { dnnl_post_ops_destroy(ops) }
      check(dnnl_post_ops_append_sum(ops, 1), "sum post op")
      check(dnnl_primitive_attr_set_post_ops(attr, ops), "set post ops")
    }
    var pd: dnnl_primitive_desc_t?
    check(dnnl_primitive_desc_create(&pd, &desc, attr, engine, nil), "primitive desc")
    defer { dnnl_primitive_desc_destroy(pd) }
    var primitive: dnnl_primitive_t?
    check(dnnl_primitive_create(&primitive, pd), "primitive")

    func memory(_ md: UnsafePointer<dnnl_memory_desc_t>) -> dnnl_memory_t {
      var mem: dnnl_memory_t?
      check(dnnl_memory_create(&mem, md, engine, nil), "memory")
      return mem!
    }
    var prepared = Prepared(
      primitive: primitive!, src: memory(&srcDesc), weights: memory(&weightsDesc),
      dst: memory(&dstDesc))
    if let scratchMD = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0) {
      let bytes = dnnl_memory_desc_get_size(scratchMD)
      if bytes > 0 {
        let buffer = AlignedBuffer<UInt8>(count: bytes, category: .scratch)
        var mem: dnnl_memory_t?
        check(dnnl_memory_create(&mem, scratchMD, engine, buffer.pointer), "scratch memory")
        prepared.scratch = mem
        prepared.scratchBuffer = buffer
      }
    }
    return prepared
  }
}

private func dims(_ a: Int, _ b: Int) -> [dnnl_dim_t] { [dnnl_dim_t(a), dnnl_dim_t(b)] }

private func check(_ status: dnnl_status_t, _ what: String) {
  precondition(status == dnnl_success, "oneDNN \(what) failed with status \(status.rawValue)")
}
