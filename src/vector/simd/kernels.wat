;; Exact scoring kernels for the vector module, in WebAssembly SIMD (f32x4). The slab of vectors
;; lives at offset 0 of this module's memory, one row of `dim` float32 per label; a call scores the
;; query at `q` against the rows named by `n` int32 labels at `labels` and writes `n` float32 to
;; `out`. Sums are float32 like hnswlib's own. Rebuild the .wasm.ts next to it with
;; `bun scripts/build-wasm.ts` (a test checks the two agree).
(module
  (memory (export "memory") 1)

  ;; out[i] = dot(q, row(labels[i])). Four independent f32x4 sums over 16 floats a step: one
  ;; running sum waits on each add (a chain of dim/4 adds); four cut that chain by four. Measured
  ;; on 100K x 384 rows: 0.21 ms against 0.28 ms for 2,000 rows in cache, 2.9 ms against 3.4 ms for
  ;; 7,800 random rows (the rest is memory). The order of the float32 additions differs from
  ;; hnswlib's by rounding only (within 2e-6 of the one-sum kernel here).
  (func (export "dots") (param $q i32) (param $labels i32) (param $n i32) (param $dim i32) (param $out i32)
    (local $i i32) (local $row i32) (local $j i32) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $vec16 i32) (local $vec4 i32) (local $s f32) (local $stride i32) (local $qp i32) (local $rp i32)
    (local.set $stride (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $vec16 (i32.and (local.get $dim) (i32.const -16)))
    (local.set $vec4 (i32.and (local.get $dim) (i32.const -4)))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $row (i32.mul (i32.load (i32.add (local.get $labels) (i32.shl (local.get $i) (i32.const 2)))) (local.get $stride)))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0))
        (local.set $a3 (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        ;; 16 floats a step into four independent sums
        (block $v16done
          (loop $v16
            (br_if $v16done (i32.ge_u (local.get $j) (local.get $vec16)))
            (local.set $qp (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $rp (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load offset=0 (local.get $qp)) (v128.load offset=0 (local.get $rp)))))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load offset=16 (local.get $qp)) (v128.load offset=16 (local.get $rp)))))
            (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load offset=32 (local.get $qp)) (v128.load offset=32 (local.get $rp)))))
            (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (v128.load offset=48 (local.get $qp)) (v128.load offset=48 (local.get $rp)))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $v16)))
        ;; then 4 at a time, then one at a time
        (block $v4done
          (loop $v4
            (br_if $v4done (i32.ge_u (local.get $j) (local.get $vec4)))
            (local.set $a0
              (f32x4.add (local.get $a0)
                (f32x4.mul
                  (v128.load (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2))))
                  (v128.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $v4)))
        (local.set $a0 (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))))
        (local.set $s
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $a0)) (f32x4.extract_lane 1 (local.get $a0)))
            (f32.add (f32x4.extract_lane 2 (local.get $a0)) (f32x4.extract_lane 3 (local.get $a0)))))
        (block $tdone
          (loop $t
            (br_if $tdone (i32.ge_u (local.get $j) (local.get $dim)))
            (local.set $s
              (f32.add (local.get $s)
                (f32.mul
                  (f32.load (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2))))
                  (f32.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $t)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (local.get $s))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each))))

  ;; out[i] = squared L2 distance between q and row(labels[i]), summed like dots.
  (func (export "l2s") (param $q i32) (param $labels i32) (param $n i32) (param $dim i32) (param $out i32)
    (local $i i32) (local $row i32) (local $j i32) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $vec16 i32) (local $vec4 i32) (local $s f32) (local $stride i32) (local $qp i32) (local $rp i32) (local $d v128) (local $x f32)
    (local.set $stride (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $vec16 (i32.and (local.get $dim) (i32.const -16)))
    (local.set $vec4 (i32.and (local.get $dim) (i32.const -4)))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $row (i32.mul (i32.load (i32.add (local.get $labels) (i32.shl (local.get $i) (i32.const 2)))) (local.get $stride)))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0))
        (local.set $a3 (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        ;; 16 floats a step into four independent sums
        (block $v16done
          (loop $v16
            (br_if $v16done (i32.ge_u (local.get $j) (local.get $vec16)))
            (local.set $qp (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $rp (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $d (f32x4.sub (v128.load offset=0 (local.get $qp)) (v128.load offset=0 (local.get $rp))))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $d (f32x4.sub (v128.load offset=16 (local.get $qp)) (v128.load offset=16 (local.get $rp))))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $d (f32x4.sub (v128.load offset=32 (local.get $qp)) (v128.load offset=32 (local.get $rp))))
            (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $d (f32x4.sub (v128.load offset=48 (local.get $qp)) (v128.load offset=48 (local.get $rp))))
            (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $v16)))
        ;; then 4 at a time, then one at a time
        (block $v4done
          (loop $v4
            (br_if $v4done (i32.ge_u (local.get $j) (local.get $vec4)))
            (local.set $d
              (f32x4.sub
                (v128.load (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2))))
                (v128.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $v4)))
        (local.set $a0 (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))))
        (local.set $s
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $a0)) (f32x4.extract_lane 1 (local.get $a0)))
            (f32.add (f32x4.extract_lane 2 (local.get $a0)) (f32x4.extract_lane 3 (local.get $a0)))))
        (block $tdone
          (loop $t
            (br_if $tdone (i32.ge_u (local.get $j) (local.get $dim)))
            (local.set $x
              (f32.sub
                (f32.load (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2))))
                (f32.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $s (f32.add (local.get $s) (f32.mul (local.get $x) (local.get $x))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $t)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (local.get $s))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each))))

  ;; out[i] = integer dot(q, code(labels[i])) over int8 codes, one row of `dim` bytes per label
  ;; (the quantized copy of pending vectors; a separate instance holds codes at offset 0). Each
  ;; 16 bytes widen to i16x8 halves and meet in i32x4.dot_i16x8_s, exact in int32 up to
  ;; 16,384 dimensions (127 * 127 * 16384 < 2^31).
  (func (export "dots_i8") (param $q i32) (param $labels i32) (param $n i32) (param $dim i32) (param $out i32)
    (local $i i32) (local $row i32) (local $j i32) (local $acc v128) (local $a v128) (local $b v128) (local $vec16 i32) (local $s i32)
    (local.set $vec16 (i32.and (local.get $dim) (i32.const -16)))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $row (i32.mul (i32.load (i32.add (local.get $labels) (i32.shl (local.get $i) (i32.const 2)))) (local.get $dim)))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $vdone
          (loop $v
            (br_if $vdone (i32.ge_u (local.get $j) (local.get $vec16)))
            (local.set $a (v128.load (i32.add (local.get $q) (local.get $j))))
            (local.set $b (v128.load (i32.add (local.get $row) (local.get $j))))
            (local.set $acc
              (i32x4.add (local.get $acc)
                (i32x4.add
                  (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $a)) (i16x8.extend_low_i8x16_s (local.get $b)))
                  (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $a)) (i16x8.extend_high_i8x16_s (local.get $b))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $v)))
        (local.set $s
          (i32.add
            (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
            (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))
        (block $tdone
          (loop $t
            (br_if $tdone (i32.ge_u (local.get $j) (local.get $dim)))
            (local.set $s
              (i32.add (local.get $s)
                (i32.mul
                  (i32.load8_s (i32.add (local.get $q) (local.get $j)))
                  (i32.load8_s (i32.add (local.get $row) (local.get $j))))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $t)))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (local.get $s))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))))
