//! GradBench's `ht`: hand tracking after ADBench (GradBench's `evals/ht`).
//!
//! A hand model of `B` bones skins its vertices by the pose `theta` (26 parameters: a global
//! rotation and translation, and the fingers' joint angles); the residuals compare observed
//! points with model points: a vertex each (the *simple* variant), or a point of a triangle
//! given by barycentric coordinates `us`, which are differentiated too (the *complicated*
//! variant).
//!
//! The computation splits in two: [`pose_transforms`] turns `theta` into one 3×4 matrix per
//! bone and a global one (all that depends on `theta`), and each residual reads those
//! matrices and its own vertices only ([`simple_residual`], [`complicated_residual`]). The
//! [`objective`] composes them.
//!
//! **How the Jacobian is computed.** `objective_jacobian` (generated) would run one reverse
//! sweep of the whole objective per residual row: `3P` sweeps through all `P` points, O(P²).
//! Instead [`jacobian`] uses the split above with the chain rule, every piece by reverse-mode
//! AD: the Jacobian of the transforms with respect to `theta` once per run
//! (`pose_transforms_jacobian`, one sweep per matrix entry, independent of `P`), then per
//! residual row one VJP of that row's small function (seeded with a basis vector), whose
//! adjoint of the transforms is contracted with that Jacobian. That is O(P) and still exactly
//! the derivative of the code; a test checks it against `objective_jacobian`.

#![allow(
    clippy::needless_range_loop,
    reason = "the math is written as numerical code is, with index loops"
)]

use ad_runtime::reverse;

/// Number of pose parameters.
pub const THETA_SIZE: usize = 26;

/// Entries of one 3×4 transform (the top rows of a homogeneous 4×4 matrix).
const AFFINE: usize = 12;

/// The hand model, its matrices flattened row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Number of bones `B`.
    pub bones: usize,
    /// Each bone's parent, `-1` for a root; parents come before their children.
    pub parents: Vec<i64>,
    /// `B` 4×4 matrices: each bone's transform relative to its parent at rest.
    pub base_relatives: Vec<f64>,
    /// `B` 4×4 matrices: the inverse of each bone's absolute transform at rest.
    pub inverse_base_absolutes: Vec<f64>,
    /// `V` homogeneous rest positions `(x, y, z, 1)`.
    pub base_positions: Vec<f64>,
    /// `V × B`: the weight of bone `b` for vertex `v` at `v·B + b`.
    pub weights: Vec<f64>,
    /// `T` triangles, three vertex indices each.
    pub triangles: Vec<usize>,
    /// Whether the model is a left hand (x mirrored).
    pub is_mirrored: bool,
}

impl Model {
    /// Number of vertices.
    pub fn vertices(&self) -> usize {
        self.base_positions.len() / 4
    }
}

/// `R = Rz(a1) · Ry(a2) · Rx(a0)`, row-major: a bone's rotation from its pose column
/// `(a0, a1, a2)` (a1 is the z angle, a2 the y angle).
#[reverse]
pub fn euler_rotation(a0: f64, a1: f64, a2: f64) -> [f64; 9] {
    let (sx, cx) = a0.sin_cos();
    let (sz, cz) = a1.sin_cos();
    let (sy, cy) = a2.sin_cos();
    [
        cz * cy,
        -sz * cx + cz * sy * sx,
        sz * sx + cz * sy * cx,
        sz * cy,
        cz * cx + sz * sy * sx,
        -cz * sx + sz * sy * cx,
        -sy,
        cy * sx,
        cy * cx,
    ]
}

/// The angle-axis rotation matrix of `(r0, r1, r2)`, row-major; the identity below an angle
/// of 1e-4, as the reference does.
#[reverse]
pub fn angle_axis_rotation(r0: f64, r1: f64, r2: f64) -> [f64; 9] {
    let angle = (r0 * r0 + r1 * r1 + r2 * r2).sqrt();
    let (a, b, c, d, e, f, g, h, i) = if angle < 1e-4 {
        (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
    } else {
        let (x, y, z) = (r0 / angle, r1 / angle, r2 / angle);
        let (s, c) = angle.sin_cos();
        (
            x * x + (1.0 - x * x) * c,
            x * y * (1.0 - c) - z * s,
            x * z * (1.0 - c) + y * s,
            x * y * (1.0 - c) + z * s,
            y * y + (1.0 - y * y) * c,
            y * z * (1.0 - c) - x * s,
            x * z * (1.0 - c) - y * s,
            y * z * (1.0 - c) + x * s,
            z * z + (1.0 - z * z) * c,
        )
    };
    [a, b, c, d, e, f, g, h, i]
}

/// The pose: for each bone `b`, the top 3 rows (3×4, row-major) of
/// `transform_b = absolute_b · inverse_base_absolute_b`, then the global transform
/// `[G | t]`: `12 (B + 1)` entries.
#[reverse(wrt(theta))]
pub fn pose_transforms(theta: &[f64], model: &Model) -> Vec<f64> {
    let bones = model.bones;
    let columns = bones + 3;
    // The 3 × (B + 3) pose matrix, row-major: column 3 + b drives bone b.
    let mut pose = vec![0.0; 3 * columns];
    for r in 0..3 {
        pose[r * columns] = theta[r];
        pose[r * columns + 1] = 1.0;
        pose[r * columns + 2] = theta[3 + r];
    }
    for finger in 0..5 {
        let c = 5 + 4 * finger;
        pose[c] = theta[6 + 4 * finger];
        pose[columns + c] = theta[7 + 4 * finger];
        pose[c + 1] = theta[8 + 4 * finger];
        pose[c + 2] = theta[9 + 4 * finger];
    }
    let mut absolutes = vec![0.0; 16 * bones];
    let mut transforms = vec![0.0; AFFINE * (bones + 1)];
    for b in 0..bones {
        let c = 3 + b;
        let rotation = euler_rotation(pose[c], pose[columns + c], pose[2 * columns + c]);
        // relative = base_relative · [R 0; 0 1]
        let mut relative = [0.0; 16];
        for i in 0..4 {
            for j in 0..3 {
                let mut s = 0.0;
                for k in 0..3 {
                    s += model.base_relatives[16 * b + 4 * i + k] * rotation[3 * k + j];
                }
                relative[4 * i + j] = s;
            }
            relative[4 * i + 3] = model.base_relatives[16 * b + 4 * i + 3];
        }
        let parent = model.parents[b];
        for i in 0..4 {
            for j in 0..4 {
                if parent < 0 {
                    absolutes[16 * b + 4 * i + j] = relative[4 * i + j];
                } else {
                    let q = 16 * parent as usize;
                    let mut s = 0.0;
                    for k in 0..4 {
                        s += absolutes[q + 4 * i + k] * relative[4 * k + j];
                    }
                    absolutes[16 * b + 4 * i + j] = s;
                }
            }
        }
        // Only the top 3 rows of the transform move a homogeneous position's x, y, z.
        for i in 0..3 {
            for j in 0..4 {
                let mut s = 0.0;
                for k in 0..4 {
                    s += absolutes[16 * b + 4 * i + k]
                        * model.inverse_base_absolutes[16 * b + 4 * k + j];
                }
                transforms[AFFINE * b + 4 * i + j] = s;
            }
        }
    }
    // G's columns would be scaled by pose column 1, which is all ones.
    let global = angle_axis_rotation(theta[0], theta[1], theta[2]);
    for i in 0..3 {
        for j in 0..3 {
            transforms[AFFINE * bones + 4 * i + j] = global[3 * i + j];
        }
        transforms[AFFINE * bones + 4 * i + 3] = theta[3 + i];
    }
    transforms
}

/// Vertex `v` posed by `transforms` (from [`pose_transforms`]): skinned by the weighted
/// bone transforms, mirrored for a left hand, then moved by the global transform.
#[reverse(wrt(transforms))]
pub fn vertex_position(transforms: &[f64], model: &Model, v: usize) -> [f64; 3] {
    let bones = model.bones;
    let mut skinned = [0.0; 3];
    for b in 0..bones {
        let weight = model.weights[v * bones + b];
        // Most bones do not move a given vertex: skipping them is most of the work saved, in
        // the forward sweep and the reverse.
        if weight == 0.0 {
            continue;
        }
        for i in 0..3 {
            let mut s = 0.0;
            for k in 0..4 {
                s += transforms[AFFINE * b + 4 * i + k] * model.base_positions[4 * v + k];
            }
            skinned[i] += weight * s;
        }
    }
    if model.is_mirrored {
        skinned[0] = -skinned[0];
    }
    let g = AFFINE * bones;
    let mut posed = [0.0; 3];
    for i in 0..3 {
        let mut s = transforms[g + 4 * i + 3];
        for k in 0..3 {
            s += transforms[g + 4 * i + k] * skinned[k];
        }
        posed[i] = s;
    }
    posed
}

/// The simple variant's residual of one point: `point − vertex`.
#[reverse(wrt(transforms))]
pub fn simple_residual(
    transforms: &[f64],
    model: &Model,
    vertex: usize,
    point: &[f64; 3],
) -> [f64; 3] {
    let position = vertex_position(transforms, model, vertex);
    [
        point[0] - position[0],
        point[1] - position[1],
        point[2] - position[2],
    ]
}

/// The complicated variant's residual of one point: `point − (u0 a + u1 b + (1 − u0 − u1) c)`
/// for the corners `(a, b, c)` of `triangle`.
#[reverse(wrt(transforms, u0, u1))]
pub fn complicated_residual(
    transforms: &[f64],
    model: &Model,
    triangle: usize,
    u0: f64,
    u1: f64,
    point: &[f64; 3],
) -> [f64; 3] {
    let a = vertex_position(transforms, model, model.triangles[3 * triangle]);
    let b = vertex_position(transforms, model, model.triangles[3 * triangle + 1]);
    let c = vertex_position(transforms, model, model.triangles[3 * triangle + 2]);
    let u2 = 1.0 - u0 - u1;
    [
        point[0] - (u0 * a[0] + u1 * b[0] + u2 * c[0]),
        point[1] - (u0 * a[1] + u1 * b[1] + u2 * c[1]),
        point[2] - (u0 * a[2] + u1 * b[2] + u2 * c[2]),
    ]
}

/// All `3P` residuals: the simple variant when `us` is empty (`correspondences` are
/// vertices), else the complicated one (`correspondences` are triangles, `us` holds
/// `(u0, u1)` per point). `points` holds `(x, y, z)` per point.
#[reverse(wrt(theta, us))]
pub fn objective(
    theta: &[f64],
    model: &Model,
    correspondences: &[usize],
    points: &[f64],
    us: &[f64],
) -> Vec<f64> {
    let transforms = pose_transforms(theta, model);
    let mut err = vec![0.0; 3 * correspondences.len()];
    for i in 0..correspondences.len() {
        let point = [points[3 * i], points[3 * i + 1], points[3 * i + 2]];
        // Each branch stores its own result: an array yielded by an `if` cannot be indexed
        // through the macro (reported).
        if us.is_empty() {
            let e = simple_residual(&transforms, model, correspondences[i], &point);
            for j in 0..3 {
                err[3 * i + j] = e[j];
            }
        } else {
            let e = complicated_residual(
                &transforms,
                model,
                correspondences[i],
                us[2 * i],
                us[2 * i + 1],
                &point,
            );
            for j in 0..3 {
                err[3 * i + j] = e[j];
            }
        }
    }
    err
}

/// The Jacobian GradBench asks for, as dense rows flattened row-major: `3P` rows of 26
/// columns (`∂err/∂θ`) for the simple variant, of 28 for the complicated one (columns 0–1:
/// `∂err_row/∂(u0, u1)` of the row's own point, then `∂err/∂θ`). Returns the entries and
/// the number of columns. How it is computed is in the module's documentation.
pub fn jacobian(
    theta: &[f64],
    model: &Model,
    correspondences: &[usize],
    points: &[f64],
    us: &[f64],
) -> (Vec<f64>, usize) {
    let (transforms, dtransforms) = pose_transforms_jacobian(theta, model);
    // Each transform entry depends on few of the angles (the global pose and its bone's chain):
    // the chain rule below walks only the nonzero partials.
    let nonzero: Vec<Vec<(usize, f64)>> = (dtransforms.iter())
        .map(|row| {
            (row.iter().copied().enumerate())
                .filter(|&(_, d)| d != 0.0)
                .collect()
        })
        .collect();
    let offset = if us.is_empty() { 0 } else { 2 };
    let columns = offset + THETA_SIZE;
    let mut rows = vec![0.0; 3 * correspondences.len() * columns];
    for (i, &correspondence) in correspondences.iter().enumerate() {
        let point = [points[3 * i], points[3 * i + 1], points[3 * i + 2]];
        let block = &mut rows[3 * i * columns..3 * (i + 1) * columns];
        // One VJP per residual row: the adjoints of the transforms for each of the three.
        let dt: [Vec<f64>; 3] = std::array::from_fn(|j| {
            let mut seed = [0.0; 3];
            seed[j] = 1.0;
            if us.is_empty() {
                simple_residual_vjp(&transforms, model, correspondence, &point, seed).1
            } else {
                let (_, (dt, du0, du1)) = complicated_residual_vjp(
                    &transforms,
                    model,
                    correspondence,
                    us[2 * i],
                    us[2 * i + 1],
                    &point,
                    seed,
                );
                block[j * columns] = du0;
                block[j * columns + 1] = du1;
                dt
            }
        });
        // Chain rule through the transforms, the three rows in one pass over their Jacobian;
        // most entries (bones this point's vertices do not weight) have zero adjoints.
        let (first, rest) = block.split_at_mut(columns);
        let (second, third) = rest.split_at_mut(columns);
        for (e, dtheta) in nonzero.iter().enumerate() {
            let a = [dt[0][e], dt[1][e], dt[2][e]];
            if a == [0.0; 3] {
                continue;
            }
            for &(k, d) in dtheta {
                first[offset + k] += a[0] * d;
                second[offset + k] += a[1] * d;
                third[offset + k] += a[2] * d;
            }
        }
    }
    (rows, columns)
}
