import Kernels

/// A mixture-of-experts SwiGLU feed-forward layer (qwen3moe; llama files with experts, such as
/// Mixtral): each token's `used` experts (`ExpertRouter`) each compute
/// `down_e(silu(gate_e·x) ⊙ up_e·x)`, and the token's output is their sum weighted by the router.
///
/// The three 3-D tensors `ffn_{gate,up,down}_exps` are read in place as one `WeightMatrix` per
/// expert, so a token costs only its experts' rows. `forward` packs an expert on its first use; the
/// commands pack them all at load (`DecoderModel.weightMatrices`), as llama.cpp repacks. A batch
/// is grouped by expert: every expert multiplies all of its tokens' rows at once, and all experts'
/// products share one parallel region per step (`multiplyGrouped`), gate and up in one, down in the
/// next. Each output is a row-by-row product in the kernel's fixed order, so grouping never
/// changes a bit, and the arithmetic is llama.cpp's `MUL_MAT_ID` followed by its weighting: each
/// expert's output times its weight, rounded, then added in the router's order.
struct MixtureOfExperts {
  let counts: ExpertCounts
  let width: Int  // d
  let router: ExpertRouter
  let gate, up, down: [WeightMatrix]  // per expert: [ffn, d], [ffn, d], [d, ffn]

  init(loader t: TensorLoader, prefix p: String, counts: ExpertCounts, width d: Int) throws(ModelError) {
    let ff = counts.feedForwardLength
    self.counts = counts
    width = d
    router = ExpertRouter(
      experts: counts.count, used: counts.used, width: d,
      weights: try t.floatMatrix(p + "ffn_gate_inp.weight", rows: counts.count, cols: d), normalizes: true)
    gate = try t.experts(p + "ffn_gate_exps.weight", count: counts.count, rows: ff, cols: d)
    up = try t.experts(p + "ffn_up_exps.weight", count: counts.count, rows: ff, cols: d)
    down = try t.experts(p + "ffn_down_exps.weight", count: counts.count, rows: d, cols: ff)
    guard ActivationFormat(weights: gate[0].type) == ActivationFormat(weights: up[0].type) else {
      throw .unsupportedFeature(
        architecture: "mixture-of-experts", feature: "gate experts of \(gate[0].type) beside up experts of \(up[0].type)")
    }
  }

  private var inputFormat: ActivationFormat { ActivationFormat(weights: gate[0].type) }
  private var hiddenFormat: ActivationFormat { ActivationFormat(weights: down[0].type) }

  /// Floats of arena scratch `forward` takes for `n` tokens.
  func scratchFloats(_ n: Int) -> Int {
    let pairs = n * counts.used
    let ff = counts.feedForwardLength
    return ScratchArena.footprint(
      n * counts.count, (n * inputFormat.rowBytes(width) + 3) / 4, (pairs * inputFormat.rowBytes(width) + 3) / 4,
      pairs * ff, pairs * ff, (pairs * hiddenFormat.rowBytes(ff) + 3) / 4, pairs * width)
  }

  /// out[t] = the layer's output for x[t]. x, out: [n, d]; `batched` ([n]) marks the rows llama.cpp
  /// routed in a batch of two or more (the router's F32 product order, see `ExpertRouter`).
  func forward(
    _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, n: Int, batched: UnsafePointer<Bool>,
    workspace w: inout ExpertWorkspace, arena: ScratchArena, pool: ThreadPool
  ) {
    let used = counts.used
    let experts = counts.count
    let ff = counts.feedForwardLength
    let d = width
    let pairs = n * used
    w.prepare(tokens: n, used: used, experts: experts)
    let mark = arena.mark
    defer { arena.rewind(to: mark) }

    // 1. Route every token: [n, used] experts and weights.
    let probabilities = arena.take(n * experts)  // [n, experts]
    w.selected.withUnsafeMutableBufferPointer { sel in
      w.gates.withUnsafeMutableBufferPointer { g in
        let (s, gp) = (sel.baseAddress!, g.baseAddress!)
        let route = { (range: Range<Int>) in
          for t in range {
            router.route(
              x + t * d, batched: batched[t], probabilities: probabilities + t * experts, selected: s + t * used,
              gates: gp + t * used)
          }
        }
        if n < 16 { route(0..<n) } else { pool.parallelEven(n, granule: 1, route) }
      }
    }

    // 2. Rows grouped by expert (tokens in order within an expert).
    for e in w.selected { w.rowsPerExpert[Int(e)] += 1 }
    var start = 0
    for e in 0..<experts {
      w.firstRow[e] = start
      start += w.rowsPerExpert[e]
    }
    for e in 0..<experts { w.nextRow[e] = w.firstRow[e] }
    for (pair, e) in w.selected.enumerated() {
      let row = w.nextRow[Int(e)]
      w.nextRow[Int(e)] += 1
      w.rowOfPair[pair] = Int32(row)
      w.tokenOfRow[row] = Int32(pair / used)
    }

    // 3. Inputs quantized once per token, copied to their expert rows; gate and up of every expert.
    let inBytes = inputFormat.rowBytes(d)
    let tokenActs = UnsafeMutableRawPointer(arena.take((n * inBytes + 3) / 4))  // [n, inBytes]
    let rowActs = UnsafeMutableRawPointer(arena.take((pairs * inBytes + 3) / 4))  // [pairs, inBytes]
    let gateOut = arena.take(pairs * ff)  // [pairs, ffn]
    let upOut = arena.take(pairs * ff)  // [pairs, ffn]
    quantizeActivationRows(inputFormat, x, tokenActs, rows: n, cols: d, pool: pool)
    for r in 0..<pairs {
      (rowActs + r * inBytes).copyMemory(from: tokenActs + Int(w.tokenOfRow[r]) * inBytes, byteCount: inBytes)
    }
    w.products.removeAll(keepingCapacity: true)
    for e in 0..<experts where w.rowsPerExpert[e] > 0 {
      let r0 = w.firstRow[e]
      let act = UnsafeRawPointer(rowActs + r0 * inBytes)
      w.products.append(
        GroupedProduct(weights: gate[e], act: act, actBytes: inBytes, n: w.rowsPerExpert[e], y: gateOut + r0 * ff))
      w.products.append(
        GroupedProduct(weights: up[e], act: act, actBytes: inBytes, n: w.rowsPerExpert[e], y: upOut + r0 * ff))
    }
    multiplyGrouped(w.products, pool: pool)

    // 4. SwiGLU, then every expert's down projection.
    if pairs * ff < 1 << 16 {
      swiglu(gateOut, upOut, pairs * ff)
    } else {
      pool.parallelEven(pairs, granule: 1) { rows in
        swiglu(gateOut + rows.lowerBound * ff, upOut + rows.lowerBound * ff, rows.count * ff)
      }
    }
    let hiddenBytes = hiddenFormat.rowBytes(ff)
    let hiddenActs = UnsafeMutableRawPointer(arena.take((pairs * hiddenBytes + 3) / 4))  // [pairs, hiddenBytes]
    let downOut = arena.take(pairs * d)  // [pairs, d]
    quantizeActivationRows(hiddenFormat, gateOut, hiddenActs, rows: pairs, cols: ff, pool: pool)
    w.products.removeAll(keepingCapacity: true)
    for e in 0..<experts where w.rowsPerExpert[e] > 0 {
      let r0 = w.firstRow[e]
      w.products.append(
        GroupedProduct(
          weights: down[e], act: UnsafeRawPointer(hiddenActs + r0 * hiddenBytes), actBytes: hiddenBytes,
          n: w.rowsPerExpert[e], y: downOut + r0 * d))
    }
    multiplyGrouped(w.products, pool: pool)

    // 5. Weighted sum in the router's order: each product rounded, then added (llama.cpp's
    // ggml_mul, then ggml_add of the expert views).
    for t in 0..<n {
      let o = out + t * d
      for k in 0..<used {
        let y = downOut + Int(w.rowOfPair[t * used + k]) * d
        let weight = w.gates[t * used + k]
        if k == 0 {
          for i in 0..<d { o[i] = y[i] * weight }
        } else {
          for i in 0..<d {
            let weighted = y[i] * weight
            o[i] = o[i] + weighted
          }
        }
      }
    }
  }
}

/// Per-forward bookkeeping of `MixtureOfExperts.forward`, reused by every layer of a call.
struct ExpertWorkspace {
  var selected: [Int32] = []  // [n, used]: chosen experts, most probable first
  var gates: [Float] = []  // [n, used]: their weights
  var rowOfPair: [Int32] = []  // [n, used]: the expert-grouped row of each (token, choice)
  var tokenOfRow: [Int32] = []  // [n · used]
  var rowsPerExpert: [Int] = []  // [experts]
  var firstRow: [Int] = []  // [experts]
  var nextRow: [Int] = []  // [experts]
  var products: [GroupedProduct] = []

  mutating func prepare(tokens n: Int, used: Int, experts: Int) {
    func reset<T>(_ a: inout [T], _ count: Int, _ value: T) {
      if a.count == count {
        for i in a.indices { a[i] = value }
      } else {
        a = [T](repeating: value, count: count)
      }
    }
    reset(&selected, n * used, 0)
    reset(&gates, n * used, 0)
    reset(&rowOfPair, n * used, 0)
    reset(&tokenOfRow, n * used, 0)
    reset(&rowsPerExpert, experts, 0)
    reset(&firstRow, experts, 0)
    reset(&nextRow, experts, 0)
    products.reserveCapacity(2 * experts)
  }
}
