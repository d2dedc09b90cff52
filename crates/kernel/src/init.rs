//! Initialisers (docs/abi.md, "Initialisers"), Keras's formulas over the shared generator.
//!
//! Variance scaling (keras/src/initializers/random_initializers.py, `VarianceScaling`):
//!   fan = fan_in (He, LeCun) or (fan_in + fan_out)/2 (Glorot), at least 1;
//!   uniform:  limit = sqrt(3·scale/fan), w = limit·(2u − 1);
//!   normal:   σ = sqrt(scale/fan)/0.87962566103423978 (the std of a unit normal truncated at
//!             ±2), w = σ·z with z a standard normal truncated to [−2, 2];
//!   scale = 1 (Glorot, LeCun) or 2 (He).
//! Every value is computed in f64 and rounded to f32 once, as the TypeScript reference does.
use crate::rng::Rng;

/// Initialiser kinds, codes as in docs/abi.md.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum InitKind {
    Zeros,
    Ones,
    Constant,
    GlorotUniform,
    GlorotNormal,
    HeUniform,
    HeNormal,
    LecunUniform,
    LecunNormal,
    RandomUniform,
    RandomNormal,
}

impl InitKind {
    pub fn from_code(code: u32) -> Option<Self> {
        use InitKind::*;
        Some(match code {
            0 => Zeros,
            1 => Ones,
            2 => Constant,
            3 => GlorotUniform,
            4 => GlorotNormal,
            5 => HeUniform,
            6 => HeNormal,
            7 => LecunUniform,
            8 => LecunNormal,
            9 => RandomUniform,
            10 => RandomNormal,
            _ => return None,
        })
    }
}

/// Std of a standard normal truncated to [−2, 2]; Keras divides by it so the truncated
/// distribution has the intended variance.
const TRUNC_STD: f64 = 0.879_625_661_034_239_8;

/// Fills `dst` (one parameter tensor). `value` is the constant, or the limit / std of the
/// random_uniform / random_normal kinds; `fan_in`, `fan_out` feed the variance-scaling kinds.
pub fn init_fill(dst: &mut [f32], kind: InitKind, fan_in: u32, fan_out: u32, value: f32, seed: u32) {
    use InitKind::*;
    let mut rng = Rng::new(seed);
    let (scale, fan) = match kind {
        GlorotUniform | GlorotNormal => (1.0, (fan_in as f64 + fan_out as f64) / 2.0),
        HeUniform | HeNormal => (2.0, fan_in as f64),
        LecunUniform | LecunNormal => (1.0, fan_in as f64),
        _ => (1.0, 1.0),
    };
    let fan = fan.max(1.0);
    match kind {
        Zeros => dst.fill(0.0),
        Ones => dst.fill(1.0),
        Constant => dst.fill(value),
        GlorotUniform | HeUniform | LecunUniform => {
            let limit = (3.0 * scale / fan).sqrt();
            dst.iter_mut().for_each(|w| *w = (limit * (2.0 * rng.uniform() - 1.0)) as f32);
        }
        GlorotNormal | HeNormal | LecunNormal => {
            let sigma = (scale / fan).sqrt() / TRUNC_STD;
            dst.iter_mut().for_each(|w| *w = (sigma * rng.truncated_normal()) as f32);
        }
        RandomUniform => {
            let limit = value as f64;
            dst.iter_mut().for_each(|w| *w = (limit * (2.0 * rng.uniform() - 1.0)) as f32);
        }
        RandomNormal => {
            let sd = value as f64;
            dst.iter_mut().for_each(|w| *w = (sd * rng.normal()) as f32);
        }
    }
}
