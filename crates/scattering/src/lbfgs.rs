//! Limited-memory BFGS with a backtracking (Armijo) line search, for the synthesis.

/// Settings of [`minimize`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LbfgsSettings {
    pub memory: usize,
    pub max_iterations: usize,
    /// Stop when the loss falls below this value.
    pub loss_tol: f64,
    /// Stop when the relative decrease over 10 iterations falls below this value.
    pub stall_tol: f64,
}

/// Outcome of [`minimize`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LbfgsReport {
    pub iterations: usize,
    pub evaluations: usize,
    pub loss: f64,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimises `f` (returns the loss and writes the gradient) from `x`, in place.
pub(crate) fn minimize(
    x: &mut [f64],
    settings: LbfgsSettings,
    mut f: impl FnMut(&[f64], &mut [f64]) -> f64,
) -> LbfgsReport {
    let n = x.len();
    let mut g = vec![0.0; n];
    let mut loss = f(x, &mut g);
    let mut evaluations = 1;
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut history = vec![loss];
    let mut d = vec![0.0; n];
    let mut x_new = vec![0.0; n];
    let mut g_new = vec![0.0; n];
    let mut iterations = 0;
    while iterations < settings.max_iterations && loss > settings.loss_tol && loss.is_finite() {
        // Two-loop recursion: d = -H g.
        d.copy_from_slice(&g);
        let k = s_hist.len();
        let mut alpha = vec![0.0; k];
        for i in (0..k).rev() {
            let rho = 1.0 / dot(&y_hist[i], &s_hist[i]);
            alpha[i] = rho * dot(&s_hist[i], &d);
            for (dj, yj) in d.iter_mut().zip(&y_hist[i]) {
                *dj -= alpha[i] * yj;
            }
        }
        let gamma = if k > 0 {
            dot(&s_hist[k - 1], &y_hist[k - 1]) / dot(&y_hist[k - 1], &y_hist[k - 1])
        } else {
            1.0 / dot(&g, &g).sqrt().max(1e-300)
        };
        for dj in d.iter_mut() {
            *dj *= gamma;
        }
        for i in 0..k {
            let rho = 1.0 / dot(&y_hist[i], &s_hist[i]);
            let beta = rho * dot(&y_hist[i], &d);
            for (dj, sj) in d.iter_mut().zip(&s_hist[i]) {
                *dj += (alpha[i] - beta) * sj;
            }
        }
        for dj in d.iter_mut() {
            *dj = -*dj;
        }
        let mut slope = dot(&g, &d);
        if slope >= 0.0 {
            // Not a descent direction: restart from steepest descent.
            s_hist.clear();
            y_hist.clear();
            let scale = 1.0 / dot(&g, &g).sqrt().max(1e-300);
            for (dj, gj) in d.iter_mut().zip(&g) {
                *dj = -gj * scale;
            }
            slope = dot(&g, &d);
        }
        // Backtracking Armijo line search.
        let mut step = 1.0;
        let mut accepted = false;
        for _ in 0..40 {
            for ((xn, xi), di) in x_new.iter_mut().zip(x.iter()).zip(&d) {
                *xn = xi + step * di;
            }
            let l_new = f(&x_new, &mut g_new);
            evaluations += 1;
            if l_new.is_finite() && l_new <= loss + 1e-4 * step * slope {
                let s: Vec<f64> = x_new.iter().zip(x.iter()).map(|(a, b)| a - b).collect();
                let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
                if dot(&s, &y) > 1e-12 * dot(&y, &y).sqrt() * dot(&s, &s).sqrt() {
                    s_hist.push(s);
                    y_hist.push(y);
                    if s_hist.len() > settings.memory {
                        s_hist.remove(0);
                        y_hist.remove(0);
                    }
                }
                x.copy_from_slice(&x_new);
                g.copy_from_slice(&g_new);
                loss = l_new;
                accepted = true;
                break;
            }
            step *= 0.5;
        }
        iterations += 1;
        if std::env::var_os("WCRG_LBFGS_TRACE").is_some() && iterations % 100 == 0 {
            eprintln!(
                "lbfgs {iterations}: loss {loss:.3e}, step {step:.1e}, memory {}",
                s_hist.len()
            );
        }
        if !accepted {
            break;
        }
        history.push(loss);
        if history.len() > 10 {
            let old = history[history.len() - 11];
            if (old - loss) <= settings.stall_tol * old.abs() {
                break;
            }
        }
    }
    LbfgsReport {
        iterations,
        evaluations,
        loss,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimizes_the_rosenbrock_function() {
        let mut x = vec![-1.2, 1.0, -1.2, 1.0];
        let settings = LbfgsSettings {
            memory: 8,
            max_iterations: 500,
            loss_tol: 1e-20,
            stall_tol: 0.0,
        };
        let r = minimize(&mut x, settings, |x, g| {
            let mut f = 0.0;
            g.fill(0.0);
            for i in 0..x.len() - 1 {
                let a = x[i + 1] - x[i] * x[i];
                let b = 1.0 - x[i];
                f += 100.0 * a * a + b * b;
                g[i] += -400.0 * a * x[i] - 2.0 * b;
                g[i + 1] += 200.0 * a;
            }
            f
        });
        assert!(r.loss < 1e-12, "{r:?}");
        for v in x {
            assert!((v - 1.0).abs() < 1e-5);
        }
    }
}
