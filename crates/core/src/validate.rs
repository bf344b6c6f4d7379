//! Validation helpers used at the public entry points of every crate.
//!
//! Each returns the matching [`Error`] variant with the offending values.

use crate::{Error, Result};

/// Checks that every value is finite.
///
/// # Errors
/// [`Error::NonFinite`] naming the first NaN or infinity and its flat index.
pub fn finite<'a>(what: &str, values: impl IntoIterator<Item = &'a f64>) -> Result<()> {
    match values.into_iter().enumerate().find(|(_, v)| !v.is_finite()) {
        Some((index, &value)) => Err(Error::NonFinite {
            what: what.to_owned(),
            index,
            value,
        }),
        None => Ok(()),
    }
}

/// Checks that `actual == expected`.
///
/// # Errors
/// [`Error::ShapeMismatch`] with both shapes.
pub fn shape(what: &str, expected: &[usize], actual: &[usize]) -> Result<()> {
    if expected == actual {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            what: what.to_owned(),
            expected: expected.to_vec(),
            actual: actual.to_vec(),
        })
    }
}

/// Checks that no size is zero.
///
/// # Errors
/// [`Error::Empty`] when a size is zero or the shape has no axes.
pub fn non_empty(what: &str, shape: &[usize]) -> Result<()> {
    if shape.is_empty() || shape.contains(&0) {
        Err(Error::Empty {
            what: format!("{what} (shape {shape:?})"),
        })
    } else {
        Ok(())
    }
}

/// Checks that every size is divisible by `divisor`.
///
/// # Errors
/// [`Error::NotDivisible`] naming the first axis that is not.
pub fn divisible(what: &str, shape: &[usize], divisor: usize) -> Result<()> {
    match shape
        .iter()
        .enumerate()
        .find(|&(_, &s)| s == 0 || s % divisor != 0)
    {
        Some((axis, &size)) => Err(Error::NotDivisible {
            what: what.to_owned(),
            axis,
            size,
            divisor,
        }),
        None => Ok(()),
    }
}

/// Panics with a message naming both shapes when they differ (hot-path checks).
///
/// # Panics
/// When `expected != actual`.
#[track_caller]
pub fn assert_shape(what: &str, expected: &[usize], actual: &[usize]) {
    assert!(
        expected == actual,
        "{what}: expected shape {expected:?}, got {actual:?}"
    );
}

/// Asserts that `f` panics with a message naming both `expected` and `actual` (as `{:?}`
/// prints them), as [`assert_shape`]'s does: the hot-path contract, for the tests of feature
/// blocks, energies and transforms, the workspace's and your own. `context` is put at the head
/// of the failure message.
///
/// # Panics
/// When `f` returns, or panics with another message (or a payload that is not a string). With
/// `panic = "abort"` a panic of `f` aborts instead.
#[track_caller]
pub fn assert_panics_naming_shapes<T>(
    context: &str,
    expected: &[usize],
    actual: &[usize],
    f: impl FnOnce() -> T,
) {
    let msg = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(_) => panic!("{context}: no panic for shape {actual:?} (expected {expected:?})"),
        Err(e) => e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default(),
    };
    assert!(
        msg.contains(&format!("{expected:?}")) && msg.contains(&format!("{actual:?}")),
        "{context}: the panic does not name {expected:?} and {actual:?}: {msg:?}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finite_reports_first_offender() {
        let v = [1.0, 2.0, f64::NAN, f64::INFINITY];
        match finite("data", &v) {
            Err(Error::NonFinite { index, value, .. }) => {
                assert_eq!(index, 2);
                assert!(value.is_nan());
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(finite("data", &[1.0, -3.0]).is_ok());
    }

    #[test]
    fn divisible_names_axis() {
        assert_eq!(
            divisible("x", &[8, 12], 8),
            Err(Error::NotDivisible {
                what: "x".into(),
                axis: 1,
                size: 12,
                divisor: 8
            })
        );
        assert!(divisible("x", &[8, 16], 8).is_ok());
        assert!(divisible("x", &[0], 2).is_err());
    }

    #[test]
    fn shape_and_empty() {
        assert!(shape("x", &[2, 3], &[2, 3]).is_ok());
        assert!(matches!(
            shape("x", &[2, 3], &[3, 2]),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(non_empty("x", &[0, 3]).is_err());
        assert!(non_empty("x", &[]).is_err());
        assert!(non_empty("x", &[1]).is_ok());
    }

    #[test]
    #[should_panic(expected = "expected shape [2], got [3]")]
    fn assert_shape_panics_with_both_shapes() {
        assert_shape("buf", &[2], &[3]);
    }

    #[test]
    fn panics_naming_shapes_are_told_from_the_others() {
        assert_panics_naming_shapes("ok", &[2, 3], &[3, 2], || {
            assert_shape("buf", &[2, 3], &[3, 2])
        });
        let fails = |f: fn()| std::panic::catch_unwind(f).is_err();
        assert!(fails(|| assert_panics_naming_shapes(
            "none",
            &[2],
            &[3],
            || 1
        )));
        assert!(fails(|| {
            assert_panics_naming_shapes("other", &[2], &[3], || panic!("index out of bounds"))
        }));
        assert!(fails(|| {
            assert_panics_naming_shapes("one", &[2], &[3], || panic!("expected shape [2]"))
        }));
    }
}
