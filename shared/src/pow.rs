//! `pow`, the one function the functions would load libm.so for.
//!
//! The SDK's adaptive retry limiter takes a cube root with `f64::powf`, which compiles to a
//! call to the C library's `pow`: for that one symbol every cold start would map and
//! relocate libm.so.6, whose pages then stay resident. Defined here, from the `libm`
//! crate (a port of musl's), the linker resolves it inside the executable and drops libm.so
//! from the binary's needs (`--as-needed`). `make boot-check` fails a bootstrap that still needs
//! libm.so.6; the tests below hold `pow` to C's results.

/// C's `pow(x, y)`: `x` raised to the power `y`.
#[unsafe(no_mangle)]
pub extern "C" fn pow(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}

#[cfg(test)]
mod tests {
    use super::pow;

    #[test]
    fn powers_and_roots_are_those_of_c() {
        assert_eq!(pow(2.0, 10.0), 1024.0);
        assert_eq!(pow(10.0, -2.0), 0.01);
        assert!((pow(27.0, 1.0 / 3.0) - 3.0).abs() < 1e-15);
        assert!((pow(2.0, 0.5) - std::f64::consts::SQRT_2).abs() < 1e-15);
        // C's special cases (C17 F.10.4.4)
        assert_eq!(pow(f64::NAN, 0.0), 1.0);
        assert_eq!(pow(1.0, f64::NAN), 1.0);
        assert!(pow(-8.0, 1.0 / 3.0).is_nan());
        assert_eq!(pow(0.0, -1.0), f64::INFINITY);
        assert_eq!(pow(-0.0, -1.0), f64::NEG_INFINITY);
    }
}
