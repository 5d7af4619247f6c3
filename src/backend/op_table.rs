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
                Sign      "sign"    { v.sign() }           "v > (T)0 ? (T)1 : (v < (T)0 ? (T)-1 : v)";
                // NaN stays NaN (PyTorch's relu is clamp_min(0)).
                Relu      "relu"    { v.relu() }           "(v > (T)0 || rg_isnan(v)) ? v : (T)0";
                PowScalar "pow"     { v.pow_scalar(p) }    "rg_pow_scalar(v, p)";
                Clamp     "clamp"   { v.clamp_to(lo, hi) } "rg_clamp(v, lo, hi)";
            }
            // Ops whose result is floating (integer inputs are cast to float32 first).
            unary_float |v| {
                Exp       "exp"     { v.exp() }            "exp(v)";
                Log       "log"     { v.ln() }             "log(v)";
                Sqrt      "sqrt"    { v.sqrt() }           "sqrt(v)";
                Tanh      "tanh"    { v.tanh() }           "tanh(v)";
                Sigmoid   "sigmoid" { T::ONE / (T::ONE + (-v).exp()) } "(T)1 / ((T)1 + exp(-v))";
                Sin       "sin"     { v.sin() }            "sin(v)";
                Cos       "cos"     { v.cos() }            "cos(v)";
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
            // activation's output `y` (floats).
            activation_backward |g, y| {
                // Zero where y <= 0, else g (so a NaN output passes its gradient, as in PyTorch).
                Threshold "threshold_backward" { if y <= T::ZERO { T::ZERO } else { g } } "y <= (T)0 ? (T)0 : g";
                Tanh      "tanh_backward"      { g * (T::ONE - y * y) }                  "g * ((T)1 - y * y)";
                Sigmoid   "sigmoid_backward"   { g * (y * (T::ONE - y)) }                "g * (y * ((T)1 - y))";
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
