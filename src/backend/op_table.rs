//! Every elementwise op, declared once: its variant, its name, its CPU expression and its CUDA
//! expression. The op enums (`UnaryOp`, ...), the CPU kernels' match arms and the CUDA preamble
//! that NVRTC compiles (op codes and `switch` cases) all expand from [`elementwise_ops!`], so
//! they agree by construction.
//!
//! `build.rs` compiles this file too (to write the preamble for the CPU emulator of the CUDA
//! driver), so it uses nothing from the rest of the crate.
//!
//! Adding an op is one line here: the CPU expression is Rust over `T` (an
//! [`Element`](crate::backend::Element) with the methods of `Num`/`Float`), the CUDA one is C++
//! over `T` (with the helpers of `kernels/common.cuh`). Each group names the variables its
//! expressions use.

/// Calls `$callback!` with the table of elementwise ops.
macro_rules! elementwise_ops {
    ($callback:ident) => {
        $callback! {
            // Ops that compute in their input's dtype (int64 and floats). `p` is a scalar
            // power; `lo`/`hi` are clamp bounds (the dtype's extremes where not given).
            unary_any |v, p, lo, hi| {
                Neg       "neg"     { v.negate() }         "rg_neg(v)";
                Abs       "abs"     { v.abs() }            "rg_abs(v)";
                // NaN and -0.0 give +0.0 (PyTorch's `(0 < v) - (v < 0)`).
                Sign      "sign"    { v.sign() }           "v > (T)0 ? (T)1 : (v < (T)0 ? (T)-1 : (T)0)";
                // NaN stays NaN (PyTorch's relu is clamp_min(0)).
                Relu      "relu"    { v.relu() }           "(v > (T)0 || rg_isnan(v)) ? v : (T)0";
                PowScalar "pow"     { v.pow_scalar(p) }    "rg_pow_scalar(v, p)";
                Clamp     "clamp"   { v.clamp_to(lo, hi) } "rg_clamp(v, lo, hi)";
                // Whole numbers: integers pass through. `round` ties to even (nearbyint).
                Floor     "floor"   { v.floor() }          "rg_floor(v)";
                Ceil      "ceil"    { v.ceil() }           "rg_ceil(v)";
                Round     "round"   { v.round() }          "rg_round(v)";
                Trunc     "trunc"   { v.trunc() }          "rg_trunc(v)";
                // `p` is the number of decimals (floats only).
                RoundDecimals "round_decimals" { v.round_decimals(p) } "rg_round_decimals(v, p)";
            }
            // Ops whose result is floating (integer inputs are cast to float32 first). The
            // parametrised activations read `p`, `lo` and `hi` as `unary_any` does.
            unary_float |v| {
                Exp       "exp"     { v.exp() }            "exp(v)";
                Log       "log"     { v.ln() }             "log(v)";
                Sqrt      "sqrt"    { v.sqrt() }           "sqrt(v)";
                Tanh      "tanh"    { v.tanh() }           "tanh(v)";
                Sigmoid   "sigmoid" { T::ONE / (T::ONE + (-v).exp()) } "(T)1 / ((T)1 + exp(-v))";
                Sin       "sin"     { v.sin() }            "sin(v)";
                Cos       "cos"     { v.cos() }            "cos(v)";
                Tan       "tan"     { v.tan() }            "tan(v)";
                Asin      "asin"    { v.asin() }           "asin(v)";
                Acos      "acos"    { v.acos() }           "acos(v)";
                Atan      "atan"    { v.atan() }           "atan(v)";
                Sinh      "sinh"    { v.sinh() }           "sinh(v)";
                Cosh      "cosh"    { v.cosh() }           "cosh(v)";
                Asinh     "asinh"   { v.asinh() }          "asinh(v)";
                Acosh     "acosh"   { v.acosh() }          "acosh(v)";
                Atanh     "atanh"   { v.atanh() }          "atanh(v)";
                Erf       "erf"     { v.erf() }            "erf(v)";
                Erfc      "erfc"    { v.erfc() }           "erfc(v)";
                Erfinv    "erfinv"  { v.erfinv() }         "erfinv(v)";
                Log2      "log2"    { v.log2() }           "log2(v)";
                Log10     "log10"   { v.log10() }          "log10(v)";
                Log1p     "log1p"   { v.ln_1p() }          "log1p(v)";
                Expm1     "expm1"   { v.exp_m1() }         "expm1(v)";
                Exp2      "exp2"    { v.exp2() }           "exp2(v)";
                Rsqrt     "rsqrt"   { T::ONE / v.sqrt() }  "(T)1 / sqrt(v)";
                Frac      "frac"    { v - v.trunc() }      "v - trunc(v)";
                // The gamma family (`backend::special`; `p` is polygamma's order n >= 0).
                Lgamma    "lgamma"  { v.lgamma() }         "lgamma(v)";
                Digamma   "digamma" { v.digamma() }        "rg_digamma(v)";
                Polygamma "polygamma" { v.polygamma(p) }   "rg_polygamma(v, p)";
                // Activations, with PyTorch's CPU formulas (so the same values at the edges).
                Gelu      "gelu"    { v * T::from_f64(0.5) * (T::ONE + (v * T::from_f64(std::f64::consts::FRAC_1_SQRT_2)).erf()) }
                                    "v * (T)0.5 * ((T)1 + erf(v * (T)0.70710678118654752440))";
                GeluTanh  "gelu_tanh" { T::from_f64(0.5) * v * (T::ONE + (T::from_f64(0.7978845608028654) * (v + T::from_f64(0.044715) * v * v * v)).tanh()) }
                                    "(T)0.5 * v * ((T)1 + tanh((T)0.79788456080286535588 * (v + (T)0.044715 * v * v * v)))";
                Silu      "silu"    { v / (T::ONE + (-v).exp()) } "v / ((T)1 + exp(-v))";
                Mish      "mish"    { v * v.exp().ln_1p().tanh() } "v * tanh(log1p(exp(v)))";
                // `p` is beta, `hi` the threshold above which the input passes through.
                Softplus  "softplus" { if v * p > hi { v } else { (v * p).exp().ln_1p() / p } }
                                    "v * p > hi ? v : log1p(exp(v * p)) / p";
                // `p` is alpha, `lo` the scale, `hi` the input scale (SELU and CELU are ELUs).
                Elu       "elu"     { if v <= T::ZERO { (v * hi).exp_m1() * (p * lo) } else { v * lo } }
                                    "v <= (T)0 ? expm1(v * hi) * (p * lo) : v * lo";
                // `p` is the negative slope.
                LeakyRelu "leaky_relu" { if v > T::ZERO { v } else { v * p } } "v > (T)0 ? v : v * p";
                LogSigmoid "log_sigmoid" { (if v < T::ZERO { v } else { T::ZERO }) - (-v.abs()).exp().ln_1p() }
                                    "(v < (T)0 ? v : (T)0) - log1p(exp(-fabs(v)))";
            }
            // `x op y` in the promoted dtype (int64 wraps on overflow, as PyTorch's does).
            binary |x, y| {
                Add       "add"     { x + y }                "rg_add(x, y)";
                Sub       "sub"     { x - y }                "rg_sub(x, y)";
                Mul       "mul"     { x * y }                "rg_mul(x, y)";
                Div       "div"     { x / y }                "rg_div(x, y)";
                Pow       "pow"     { x.powf(y) }          "rg_pow(x, y)";
                // NaN wins, as in PyTorch.
                Maximum   "maximum" { if x >= y || x.is_nan() { x } else { y } } "(x >= y || rg_isnan(x)) ? x : y";
                Minimum   "minimum" { if x <= y || x.is_nan() { x } else { y } } "(x <= y || rg_isnan(x)) ? x : y";
                // Integer divisors of 0 are refused before the kernel (ZeroDivisionError).
                Fmod      "fmod"    { x.fmod(y) }            "rg_fmod(x, y)";
                Remainder "remainder" { x.remainder(y) }     "rg_remainder(x, y)";
                FloorDivide "floor_divide" { x.floor_divide(y) } "rg_floor_divide(x, y)";
                // Floats only (integers are promoted first).
                Atan2     "atan2"   { x.atan2(y) }           "rg_atan2(x, y)";
                Hypot     "hypot"   { x.hypot(y) }           "rg_hypot(x, y)";
                Logaddexp "logaddexp" { x.logaddexp(y) }     "rg_logaddexp(x, y)";
            }
            // Comparisons, to bool, in the promoted dtype (bool included).
            compare |x, y| {
                Eq        "eq"      { x == y }             "x == y";
                Ne        "ne"      { x != y }             "x != y";
                Lt        "lt"      { x < y }              "x < y";
                Le        "le"      { x <= y }             "x <= y";
                Gt        "gt"      { x > y }              "x > y";
                Ge        "ge"      { x >= y }             "x >= y";
            }
            // Activations' backward in one pass, from the incoming gradient `g` and the
            // activation's output `y` (floats). GELU's constants: sqrt(2 / pi) = 0.79788...,
            // the normal density at 0, 1 / sqrt(2 pi) = 0.39894...
            activation_backward |g, y| {
                // Zero where y <= 0, else g (so a NaN output passes its gradient, as in PyTorch).
                Threshold "threshold_backward" { if y <= T::ZERO { T::ZERO } else { g } } "y <= (T)0 ? (T)0 : g";
                Tanh      "tanh_backward"      { g * (T::ONE - y * y) }                  "g * ((T)1 - y * y)";
                Sigmoid   "sigmoid_backward"   { g * (y * (T::ONE - y)) }                "g * (y * ((T)1 - y))";
                // These read the activation's input (`y` names it): PyTorch's formulas.
                Gelu      "gelu_backward" {
                    g * (T::from_f64(0.5) * (T::ONE + (y * T::from_f64(std::f64::consts::FRAC_1_SQRT_2)).erf())
                        + y * (T::from_f64(-0.5) * y * y).exp() * T::from_f64(0.3989422804014327))
                } "g * ((T)0.5 * ((T)1 + erf(y * (T)0.70710678118654752440)) + y * exp((T)-0.5 * y * y) * (T)0.39894228040143267794)";
                GeluTanh  "gelu_tanh_backward" {
                    {
                        let (beta, kappa) = (T::from_f64(0.7978845608028654), T::from_f64(0.044715));
                        let t = (beta * (y + kappa * y * y * y)).tanh();
                        let half = T::from_f64(0.5);
                        g * (half * (T::ONE + t)
                            + half * y * (T::ONE - t * t) * beta * (T::ONE + T::from_f64(3.0) * kappa * y * y))
                    }
                } "rg_gelu_tanh_backward(g, y)";
                Silu      "silu_backward" {
                    { let s = T::ONE / (T::ONE + (-y).exp()); g * s * (T::ONE + y * (T::ONE - s)) }
                } "rg_silu_backward(g, y)";
            }
        }
    };
}
#[allow(unused_imports)] // build.rs only uses the preamble
pub(crate) use elementwise_ops;

/// One `switch` over op codes, as a C++ function template `name(int op, T <params>...)`.
/// `cases` are (code, expression) in declaration order; `ret` is the result type.
fn cuda_switch(out: &mut String, name: &str, ret: &str, params: &[&str], cases: &[(usize, &str)]) {
    let args: Vec<String> = params.iter().map(|p| format!("T {p}")).collect();
    out.push_str(&format!(
        "template <typename T> __device__ __forceinline__ {ret} {name}(int op, {}) {{\n    switch (op) {{\n",
        args.join(", ")
    ));
    for (code, expr) in cases {
        out.push_str(&format!("    case {code}: return ({expr});\n"));
    }
    out.push_str(&format!("    }}\n    return ({ret})0;\n}}\n"));
}

/// Writes the CUDA preamble from the table.
macro_rules! cuda_preamble_from {
    (
        unary_any |$v:ident, $p:ident, $lo:ident, $hi:ident| { $($AV:ident $an:literal { $($acpu:tt)* } $acuda:literal;)* }
        unary_float |$fv:ident| { $($FV:ident $fname:literal { $($fcpu:tt)* } $fcuda:literal;)* }
        binary |$bx:ident, $by:ident| { $($BV:ident $bn:literal { $($bcpu:tt)* } $bcuda:literal;)* }
        compare |$cx:ident, $cy:ident| { $($CV:ident $cn:literal { $($ccpu:tt)* } $ccuda:literal;)* }
        activation_backward |$g:ident, $y:ident| { $($GV:ident $gn:literal { $($gcpu:tt)* } $gcuda:literal;)* }
    ) => {{
        let any: Vec<&str> = vec![$($acuda),*];
        let float: Vec<&str> = vec![$($fcuda),*];
        let numbered = |exprs: &[&'static str], from: usize| -> Vec<(usize, &'static str)> {
            exprs.iter().enumerate().map(|(i, e)| (from + i, *e)).collect()
        };
        let unary_params = [stringify!($v), stringify!($p), stringify!($lo), stringify!($hi)];
        let mut s = String::from(
            "// Generated from src/backend/op_table.rs: op codes are the Rust enums' discriminants.\n",
        );
        // Integer unary kernels see only the ops that keep their dtype.
        cuda_switch(&mut s, "unary_any_op", "T", &unary_params, &numbered(&any, 0));
        let mut all = numbered(&any, 0);
        all.extend(numbered(&float, any.len()));
        // The float-only ops see `v` only; they take the same parameters for one signature.
        let _ = stringify!($fv);
        cuda_switch(&mut s, "unary_float_op", "T", &unary_params, &all);
        cuda_switch(&mut s, "binary_op", "T", &[stringify!($bx), stringify!($by)], &numbered(&[$($bcuda),*], 0));
        cuda_switch(&mut s, "compare_op", "bool", &[stringify!($cx), stringify!($cy)], &numbered(&[$($ccuda),*], 0));
        cuda_switch(&mut s, "activation_backward_op", "T", &[stringify!($g), stringify!($y)], &numbered(&[$($gcuda),*], 0));
        s
    }};
}

/// The C++ text of every op's CUDA expression (`elementwise_ops.cuh`, pasted into the kernel
/// sources in place of its `#include`).
pub fn cuda_preamble() -> String {
    elementwise_ops!(cuda_preamble_from)
}
