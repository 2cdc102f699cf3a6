"""COCO-17 keypoints (what the detector sees) to the Human3.6M-17 joints (what the lifter reads).

COCO order: 0 nose, 1 left_eye, 2 right_eye, 3 left_ear, 4 right_ear, 5 left_shoulder, 6 right_shoulder,
7 left_elbow, 8 right_elbow, 9 left_wrist, 10 right_wrist, 11 left_hip, 12 right_hip, 13 left_knee,
14 right_knee, 15 left_ankle, 16 right_ankle. H36M order: `pose_lifting.skeleton.JOINT_NAMES`.

The lifter is trained on mocap joint centres turned into H36M joints; this remap decides where the detector's
keypoints meet them.

| H36M joint      | position                                             | score                          |
|-----------------|------------------------------------------------------|--------------------------------|
| hips, knees, ankles, shoulders, elbows, wrists | the COCO keypoint of the same name, side kept | its score |
| pelvis          | P = (left_hip + right_hip) / 2                       | min(left_hip, right_hip)       |
| thorax          | T = (left_shoulder + right_shoulder) / 2             | min(left_shoulder, right_shoulder) |
| spine           | (P + T) / 2                                          | min(pelvis, thorax)            |
| neck_nose       | nose                                                 | nose                           |
| head            | F + k (F - T), k = 0.6 (head top, see below)         | min(thorax, mean face score)   |

Pelvis, thorax and spine come from `skeleton.complete_torso`, the same function the mocap converters use, so
both sides of the lifter put the torso joints at the same places. Their effect: COCO hip keypoints are marked
on the outside of the hips, wider than mocap hip-joint centres, so the detected pelvis is a little wider
than in training; the pelvis (the root) and the spine still fall on the body's midline where training puts them.

Head: the mocap skeleton's head joint is the top of the head, which no COCO keypoint marks. F is the face
centre, the mean of nose, eyes and ears weighted by their scores (a plain mean when all scores are 0), so an
occluded ear, whose position is a guess, pulls it little. The top of the head lies further along the
neck, on the line from the thorax T through F. Anthropometric tables (fractions of stature: shoulder joints
~0.80-0.82, face centre ~0.93, head top 1.00) put it k = 0.07 / 0.11-0.13 = 0.55-0.65 of |F - T| beyond F; we
use k = 0.6. It follows head tilts and works for frontal, side and back views (the ears stay visible).
Its score is the mean face score (not the min, which one occluded ear would veto), capped by the thorax score.

neck_nose is the nose: H36M's joint between thorax and head sits at the lower face; the nose is the detector's
nearest keypoint, slightly in front of the mocap point, a small constant offset the lifter absorbs.
"""

from __future__ import annotations

import numpy as np

from pose_lifting.skeleton import HEAD_TOP_EXTENSION, JOINT_INDEX, NUM_JOINTS, complete_torso

COCO_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
COCO = {name: i for i, name in enumerate(COCO_NAMES)}
DIRECT = ("left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
          "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")
FACE = [COCO[name] for name in ("nose", "left_eye", "right_eye", "left_ear", "right_ear")]


def coco_to_h36m(keypoints: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map (..., 17, 2) COCO keypoints and (..., 17) scores to H36M-17 keypoints and scores (formulas above)."""
    keypoints = np.asarray(keypoints, dtype=np.float32)
    scores = np.asarray(scores, dtype=np.float32)
    joints = np.zeros(keypoints.shape[:-2] + (NUM_JOINTS, 2), np.float32)
    joint_scores = np.zeros(scores.shape[:-1] + (NUM_JOINTS,), np.float32)
    h36m = JOINT_INDEX
    for name in DIRECT:
        joints[..., h36m[name], :] = keypoints[..., COCO[name], :]
        joint_scores[..., h36m[name]] = scores[..., COCO[name]]
    complete_torso(joints)

    pelvis = np.minimum(scores[..., COCO["left_hip"]], scores[..., COCO["right_hip"]])
    thorax = np.minimum(scores[..., COCO["left_shoulder"]], scores[..., COCO["right_shoulder"]])
    joint_scores[..., h36m["pelvis"]] = pelvis
    joint_scores[..., h36m["thorax"]] = thorax
    joint_scores[..., h36m["spine"]] = np.minimum(pelvis, thorax)

    joints[..., h36m["neck_nose"], :] = keypoints[..., COCO["nose"], :]
    joint_scores[..., h36m["neck_nose"]] = scores[..., COCO["nose"]]

    face_scores = scores[..., FACE]
    weights = np.where(face_scores.sum(-1, keepdims=True) > 0, face_scores, 1.0)
    face = (keypoints[..., FACE, :] * weights[..., None]).sum(-2) / weights.sum(-1)[..., None]
    joints[..., h36m["head"], :] = face + HEAD_TOP_EXTENSION * (face - joints[..., h36m["thorax"], :])
    joint_scores[..., h36m["head"]] = np.minimum(thorax, face_scores.mean(-1))
    return joints, joint_scores
