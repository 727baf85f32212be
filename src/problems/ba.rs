//! GradBench's `ba`: bundle adjustment after ADBench (GradBench's `evals/ba`).
//!
//! One observation projects a 3-D point `x` through a camera `cam` and compares the result
//! with the observed feature, weighted by `w`. The camera is
//! `[r0 r1 r2 | C0 C1 C2 | f | u0 v0 | κ1 κ2]`: an angle-axis rotation, the centre, the focal
//! length, the principal point and two radial distortion coefficients.
//!
//! The Jacobian of a whole problem is sparse: each observation's two residuals depend on its
//! camera (11), its point (3) and its weight (1) only. So it is assembled one observation at a
//! time, from the two vector-Jacobian products of [`reprojection_error`] seeded with the basis
//! vectors (`reprojection_error_vjp`): two reverse sweeps of a small function, no allocation.

#![allow(
    clippy::needless_range_loop,
    reason = "the math is written as numerical code is, with index loops"
)]

use ad_runtime::reverse;

/// Entries of one camera.
pub const CAMERA_SIZE: usize = 11;
/// Entries of one point.
pub const POINT_SIZE: usize = 3;
/// Nonzeros of a reprojection row of the Jacobian: camera, point and weight.
pub const ROW_NONZEROS: usize = CAMERA_SIZE + POINT_SIZE + 1;

const ROTATION: usize = 0;
const CENTRE: usize = 3;
const FOCAL: usize = 6;
const PRINCIPAL: usize = 7;
const DISTORTION: usize = 9;

/// `R(r) · v` for the angle-axis rotation `r` (Rodrigues' formula). At exactly `r = 0` the
/// formula divides by zero, so there (and only there) it takes the first-order form
/// `v + r × v`, whose derivative with respect to `r` is the true one at 0.
#[reverse]
pub fn rotate(r: &[f64; 3], v: &[f64; 3]) -> [f64; 3] {
    let theta2 = r[0] * r[0] + r[1] * r[1] + r[2] * r[2];
    // The branches yield tuples: an `if` yielding arrays does not compile through the macro
    // (reported).
    let (x, y, z) = if theta2 != 0.0 {
        let theta = theta2.sqrt();
        let (s, c) = theta.sin_cos();
        let k = [r[0] / theta, r[1] / theta, r[2] / theta];
        let cross = [
            k[1] * v[2] - k[2] * v[1],
            k[2] * v[0] - k[0] * v[2],
            k[0] * v[1] - k[1] * v[0],
        ];
        let along = (k[0] * v[0] + k[1] * v[1] + k[2] * v[2]) * (1.0 - c);
        (
            v[0] * c + cross[0] * s + k[0] * along,
            v[1] * c + cross[1] * s + k[1] * along,
            v[2] * c + cross[2] * s + k[2] * along,
        )
    } else {
        (
            v[0] + r[1] * v[2] - r[2] * v[1],
            v[1] + r[2] * v[0] - r[0] * v[2],
            v[2] + r[0] * v[1] - r[1] * v[0],
        )
    };
    [x, y, z]
}

/// The weighted reprojection error `w · (proj(cam, x) − feat)` of one observation.
#[reverse(wrt(cam, x, w))]
pub fn reprojection_error(cam: &[f64; 11], x: &[f64; 3], w: f64, feat: &[f64; 2]) -> [f64; 2] {
    let r = [cam[ROTATION], cam[ROTATION + 1], cam[ROTATION + 2]];
    let centred = [
        x[0] - cam[CENTRE],
        x[1] - cam[CENTRE + 1],
        x[2] - cam[CENTRE + 2],
    ];
    let xc = rotate(&r, &centred);
    let p0 = xc[0] / xc[2];
    let p1 = xc[1] / xc[2];
    let rho = p0 * p0 + p1 * p1;
    let distortion = 1.0 + cam[DISTORTION] * rho + cam[DISTORTION + 1] * rho * rho;
    let f = cam[FOCAL];
    let proj0 = p0 * distortion * f + cam[PRINCIPAL];
    let proj1 = p1 * distortion * f + cam[PRINCIPAL + 1];
    [w * (proj0 - feat[0]), w * (proj1 - feat[1])]
}

/// The weight's residual `1 − w²`: it keeps the weights near 1.
#[reverse]
pub fn weight_error(w: f64) -> f64 {
    1.0 - w * w
}

/// One observation's camera, point, weight and feature.
pub type Observation = ([f64; 11], [f64; 3], f64, [f64; 2]);

/// A bundle-adjustment problem: `n` cameras, `m` points and `p` observations; observation
/// `i` sees point `i mod m` from camera `i mod n`, as GradBench builds it.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// The cameras, `11·n` entries.
    pub cams: Vec<f64>,
    /// The points, `3·m` entries.
    pub points: Vec<f64>,
    /// One weight per observation.
    pub weights: Vec<f64>,
    /// One observed feature (2 entries) per observation.
    pub features: Vec<f64>,
}

impl Problem {
    /// GradBench's replicated problem: `n` copies of `cam`, `m` of `x`, `p` of `w` and `feat`.
    pub fn replicated(
        n: usize,
        m: usize,
        p: usize,
        cam: &[f64; 11],
        x: &[f64; 3],
        w: f64,
        feat: &[f64; 2],
    ) -> Problem {
        Problem {
            cams: cam.repeat(n),
            points: x.repeat(m),
            weights: vec![w; p],
            features: feat.repeat(p),
        }
    }

    /// Number of cameras.
    pub fn cameras(&self) -> usize {
        self.cams.len() / CAMERA_SIZE
    }

    /// Number of points.
    pub fn point_count(&self) -> usize {
        self.points.len() / POINT_SIZE
    }

    /// Number of observations.
    pub fn observations(&self) -> usize {
        self.weights.len()
    }

    /// The camera, point, weight and feature of observation `i`.
    pub fn observation(&self, i: usize) -> Observation {
        let (c, q) = (i % self.cameras(), i % self.point_count());
        (
            array(&self.cams[CAMERA_SIZE * c..]),
            array(&self.points[POINT_SIZE * q..]),
            self.weights[i],
            array(&self.features[2 * i..]),
        )
    }

    /// The column of the first camera entry of observation `i`, of its first point entry and
    /// of its weight.
    pub fn columns(&self, i: usize) -> (usize, usize, usize) {
        let (n, m) = (self.cameras(), self.point_count());
        (
            CAMERA_SIZE * (i % n),
            CAMERA_SIZE * n + POINT_SIZE * (i % m),
            CAMERA_SIZE * n + POINT_SIZE * m + i,
        )
    }
}

/// The first `N` entries of `slice` as an array.
fn array<const N: usize>(slice: &[f64]) -> [f64; N] {
    slice[..N].try_into().expect("slice shorter than the array")
}

/// All residuals of a problem: the `2p` reprojection errors and the `p` weight errors.
pub fn residuals(problem: &Problem) -> (Vec<f64>, Vec<f64>) {
    let p = problem.observations();
    let mut reprojection = Vec::with_capacity(2 * p);
    let mut weight = Vec::with_capacity(p);
    for i in 0..p {
        let (cam, x, w, feat) = problem.observation(i);
        reprojection.extend(reprojection_error(&cam, &x, w, &feat));
        weight.push(weight_error(w));
    }
    (reprojection, weight)
}

/// A sparse matrix in compressed-row form: row `r`'s nonzeros are
/// `cols[rows[r]..rows[r + 1]]` and `vals[rows[r]..rows[r + 1]]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Csr {
    /// Row pointers, one more than the number of rows.
    pub rows: Vec<usize>,
    /// Column of each nonzero.
    pub cols: Vec<usize>,
    /// Value of each nonzero.
    pub vals: Vec<f64>,
}

/// The 2×15 block of one observation's reprojection rows: columns camera (11), point (3),
/// weight (1).
pub type Block = [[f64; ROW_NONZEROS]; 2];

/// One observation's block by reverse-mode AD: one VJP per residual, seeded with a basis
/// vector.
pub fn block(cam: &[f64; 11], x: &[f64; 3], w: f64, feat: &[f64; 2]) -> Block {
    let mut block = [[0.0; ROW_NONZEROS]; 2];
    for (row, seed) in block.iter_mut().zip([[1.0, 0.0], [0.0, 1.0]]) {
        let (_, (dcam, dx, dw)) = reprojection_error_vjp(cam, x, w, feat, seed);
        row[..CAMERA_SIZE].copy_from_slice(&dcam);
        row[CAMERA_SIZE..CAMERA_SIZE + POINT_SIZE].copy_from_slice(&dx);
        row[ROW_NONZEROS - 1] = dw;
    }
    block
}

/// The full sparse Jacobian of a problem's `3p` residuals with respect to its
/// `11n + 3m + p` unknowns, each observation's block computed by `block` (ours or
/// [`block_hand`]). Rows `2i`, `2i + 1`: observation `i`'s reprojection errors (15 nonzeros
/// each); row `2p + i`: its weight error (one nonzero, by AD of [`weight_error`]).
pub fn jacobian_with(
    problem: &Problem,
    mut block: impl FnMut(&[f64; 11], &[f64; 3], f64, &[f64; 2]) -> Block,
) -> Csr {
    let p = problem.observations();
    let nonzeros = 2 * p * ROW_NONZEROS + p;
    let mut csr = Csr {
        rows: Vec::with_capacity(3 * p + 1),
        cols: Vec::with_capacity(nonzeros),
        vals: Vec::with_capacity(nonzeros),
    };
    csr.rows.push(0);
    for i in 0..p {
        let (cam, x, w, feat) = problem.observation(i);
        let (camera, point, weight) = problem.columns(i);
        for row in block(&cam, &x, w, &feat) {
            csr.cols.extend(camera..camera + CAMERA_SIZE);
            csr.cols.extend(point..point + POINT_SIZE);
            csr.cols.push(weight);
            csr.vals.extend(row);
            csr.rows.push(csr.cols.len());
        }
    }
    for i in 0..p {
        let (_, dw) = weight_error_grad(problem.weights[i]);
        csr.cols.push(problem.columns(i).2);
        csr.vals.push(dw);
        csr.rows.push(csr.cols.len());
    }
    csr
}

/// The full sparse Jacobian by reverse-mode AD.
pub fn jacobian(problem: &Problem) -> Csr {
    jacobian_with(problem, block)
}

/// The full sparse Jacobian with the hand-written blocks of [`block_hand`].
pub fn jacobian_hand(problem: &Problem) -> Csr {
    jacobian_with(problem, block_hand)
}

/// `a × b`.
fn cross(a: &[f64; 3], b: &[f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn dot3(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// The rotated point `R(r) v` with its hand-written derivatives: `(R v, ∂(R v)/∂r, R)`, the
/// matrices as `[row][column]`.
fn rotate_hand(r: &[f64; 3], v: &[f64; 3]) -> ([f64; 3], [[f64; 3]; 3], [[f64; 3]; 3]) {
    let theta2 = dot3(r, r);
    let mut d_r = [[0.0; 3]; 3];
    let mut d_v = [[0.0; 3]; 3];
    if theta2 == 0.0 {
        // v + r × v: ∂/∂r_j = e_j × v, ∂/∂v = I + [r]×.
        let rv = cross(r, v);
        for j in 0..3 {
            let mut e = [0.0; 3];
            e[j] = 1.0;
            let column = cross(&e, v);
            let rotated = cross(r, &e);
            for i in 0..3 {
                d_r[i][j] = column[i];
                d_v[i][j] = e[i] + rotated[i];
            }
        }
        return ([v[0] + rv[0], v[1] + rv[1], v[2] + rv[2]], d_r, d_v);
    }
    let theta = theta2.sqrt();
    let (s, c) = theta.sin_cos();
    let k = [r[0] / theta, r[1] / theta, r[2] / theta];
    let kv = cross(&k, v);
    let along = dot3(&k, v);
    let value = std::array::from_fn(|i| v[i] * c + kv[i] * s + k[i] * along * (1.0 - c));
    for j in 0..3 {
        // θ depends on r_j through ∂θ/∂r_j = k_j, and k through ∂k/∂r_j = (e_j − k k_j)/θ.
        let dk: [f64; 3] = std::array::from_fn(|i| (f64::from(i == j) - k[i] * k[j]) / theta);
        let dkv = cross(&dk, v);
        let dalong = dot3(&dk, v);
        for i in 0..3 {
            d_r[i][j] = -v[i] * s * k[j]
                + dkv[i] * s
                + kv[i] * c * k[j]
                + dk[i] * along * (1.0 - c)
                + k[i] * dalong * (1.0 - c)
                + k[i] * along * s * k[j];
        }
    }
    // R = c I + s [k]× + (1 − c) k kᵀ.
    let skew = [[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]];
    for i in 0..3 {
        for j in 0..3 {
            d_v[i][j] = c * f64::from(i == j) + s * skew[i][j] + (1.0 - c) * k[i] * k[j];
        }
    }
    (value, d_r, d_v)
}

/// One observation's block with derivatives written by hand: the chain rule through
/// centring, rotation, perspective division, distortion and scaling.
pub fn block_hand(cam: &[f64; 11], x: &[f64; 3], w: f64, feat: &[f64; 2]) -> Block {
    let r = [cam[0], cam[1], cam[2]];
    let centred = [x[0] - cam[3], x[1] - cam[4], x[2] - cam[5]];
    let (xc, dxc_dr, dxc_dx) = rotate_hand(&r, &centred);
    let p = [xc[0] / xc[2], xc[1] / xc[2]];
    // ∂p_a/∂xc: (1/z) on a's own coordinate, −p_a/z on z.
    let dp_dxc = [
        [1.0 / xc[2], 0.0, -p[0] / xc[2]],
        [0.0, 1.0 / xc[2], -p[1] / xc[2]],
    ];
    let rho = p[0] * p[0] + p[1] * p[1];
    let (k1, k2, f) = (cam[DISTORTION], cam[DISTORTION + 1], cam[FOCAL]);
    let distortion = 1.0 + k1 * rho + k2 * rho * rho;
    let ddistortion_drho = k1 + 2.0 * k2 * rho;
    // ∂proj_a/∂p_b = f (L δ_ab + p_a L'(ρ) 2 p_b).
    let dproj_dp: [[f64; 2]; 2] = std::array::from_fn(|a| {
        std::array::from_fn(|b| {
            f * (distortion * f64::from(a == b) + p[a] * ddistortion_drho * 2.0 * p[b])
        })
    });
    let mut block = [[0.0; ROW_NONZEROS]; 2];
    for a in 0..2 {
        // ∂proj_a/∂xc, then through the rotation to r and x (the centre is −x's).
        let dproj_dxc: [f64; 3] =
            std::array::from_fn(|j| dproj_dp[a][0] * dp_dxc[0][j] + dproj_dp[a][1] * dp_dxc[1][j]);
        let row = &mut block[a];
        for j in 0..3 {
            let dr: f64 = (0..3).map(|i| dproj_dxc[i] * dxc_dr[i][j]).sum();
            let dx: f64 = (0..3).map(|i| dproj_dxc[i] * dxc_dx[i][j]).sum();
            row[ROTATION + j] = w * dr;
            row[CENTRE + j] = -w * dx;
            row[CAMERA_SIZE + j] = w * dx;
        }
        row[FOCAL] = w * p[a] * distortion;
        row[PRINCIPAL + a] = w;
        row[DISTORTION] = w * f * p[a] * rho;
        row[DISTORTION + 1] = w * f * p[a] * rho * rho;
        row[ROW_NONZEROS - 1] = p[a] * distortion * f + cam[PRINCIPAL + a] - feat[a];
    }
    block
}
