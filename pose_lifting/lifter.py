"""Inference: load a trained lifter and turn a `Pose2DSequence` into a `Pose3DSequence`.

    lifter = Lifter.from_pretrained("student")          # or "teacher", or a path to a .pt checkpoint
    poses3d = lifter.lift(poses2d, flip_test=True)

A video is lifted in batches of windows, one window per frame (edges padded by repetition), on the GPU
when there is one, else the CPU. A GPU that runs out of memory halves the batch and, at the end, falls
back to the CPU. Videos at another frame rate than the lifter's are resampled to it and back. The 3D output
is then smoothed over time against the detector's frame-to-frame noise (`SmoothingConfig`; docs/noise.md).
"""

from __future__ import annotations

import pickle
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.signal import savgol_filter

from pose_lifting.devices import resolve_device
from pose_lifting.model import LifterConfig, PoseLifter, count_flops
from pose_lifting.normalization import InputConfig, flip_horizontal, normalize_windows, with_scores
from pose_lifting.progress import Progress
from pose_lifting.sampling import sparse_indices, video_windows
from pose_lifting.sequence import Pose2DSequence, Pose3DSequence
from pose_lifting.skeleton import FLIP_PERMUTATION, bone_lengths_symmetric, with_bone_lengths

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
# what torch.load and the model rebuild raise for a truncated, damaged or foreign checkpoint file
UNREADABLE_CHECKPOINT = (RuntimeError, pickle.UnpicklingError, EOFError, IndexError, KeyError, TypeError, ValueError)


class CorruptWeightsError(RuntimeError):
    """A weights file exists but cannot be read as a lifter checkpoint (truncated, damaged, another format)."""


SMOOTHING_METHODS = ("none", "phase", "savgol", "phase+savgol", "phase+savgol+bones")


@dataclass(frozen=True)
class SmoothingConfig:
    """Test-time defence of the lifted 3D against the 2D's frame-to-frame noise, applied at the lifter's frame rate.

    - "phase": average the lifts of the L phase-shifted sparse windows. A student with stride L sees frames
      t + L k of the window centred on frame t; the windows centred on t + s, s = -(L-1)/2 .. (L-1)/2, see the
      L different phases, together every frame of the receptive field. The output at t is the mean of those L
      windows' lifts, i.e. a centred moving average of L frames (edges repeat, as the windows do). `lift`
      already evaluates one window per frame, so this costs no model evaluation. A dense lifter (L = 1) is
      unchanged.
    - "savgol": a Savitzky-Golay filter (polynomial of `polyorder`) over `seconds` of frames, so the cut-off
      frequency is the same at every frame rate (0.25 s: 9 frames at 30 fps, 15 at 60).
    - "phase+savgol": the first, then the second; "none": the raw lifts.
    - "phase+savgol+bones": then every bone at its median length over the whole sequence (left and right twins
      averaged), its direction kept (`skeleton.with_bone_lengths`): a person's bones do not stretch, and the 2D's
      steady errors make the lifted ones wander; the lengths agree better with the truth than most frames' do.
    """

    method: str = "phase+savgol+bones"  # the best on held-out mocap with detector errors (docs/noise.md)
    seconds: float = 0.25
    polyorder: int = 2

    def __post_init__(self) -> None:
        if self.method not in SMOOTHING_METHODS:
            raise ValueError(f"smoothing must be one of {SMOOTHING_METHODS}, got {self.method!r}")


def savgol_frames(seconds: float, fps: float, polyorder: int) -> int:
    """The odd frame count nearest `seconds` at `fps`, long enough for the polynomial."""
    return max(int(round(seconds * fps)) // 2 * 2 + 1, polyorder + 1 + polyorder % 2)


def smooth_poses(poses: np.ndarray, fps: float, stride: int, config: SmoothingConfig) -> np.ndarray:
    """(T, J, 3) poses at `fps` from a lifter with sampling stride `stride`, smoothed as `config` says."""
    out = poses
    if "phase" in config.method and stride > 1:
        half = stride // 2
        index = np.clip(np.arange(len(out))[:, None] + np.arange(-half, half + 1)[None], 0, len(out) - 1)
        out = out[index].mean(axis=1)
    if "savgol" in config.method:
        frames = min(savgol_frames(config.seconds, fps, config.polyorder), (len(out) - 1) // 2 * 2 + 1)
        if frames > config.polyorder:
            out = savgol_filter(out, frames, config.polyorder, axis=0, mode="interp")
    if "bones" in config.method:
        out = with_bone_lengths(out, bone_lengths_symmetric(out))
    return out.astype(poses.dtype)


def save_checkpoint(path: str | Path, model: PoseLifter, inputs: InputConfig, name: str, **extra) -> Path:
    """Write weights (fp16) with the config that rebuilds the model and anything else worth keeping."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu", torch.float16) for k, v in model.state_dict().items()}
    torch.save(
        {"name": name, "config": model.config.to_dict(), "inputs": asdict(inputs), "state_dict": state, **extra}, path
    )
    return path


def weights_path(name_or_path: str | Path) -> Path:
    """weights/<name>.pt for a bare name, else the path itself."""
    path = Path(name_or_path)
    return WEIGHTS_DIR / f"{name_or_path}.pt" if not path.suffix else path


def resample(values: np.ndarray, times: np.ndarray, new_times: np.ndarray) -> np.ndarray:
    """Linear interpolation of (T, ...) values sampled at `times` onto `new_times`."""
    flat = values.reshape(len(values), -1)
    out = np.stack([np.interp(new_times, times, flat[:, i]) for i in range(flat.shape[1])], axis=1)
    return out.reshape(len(new_times), *values.shape[1:]).astype(values.dtype)


TRAIN_COMMANDS = {
    "teacher": "python -m pose_lifting.train --model teacher --out runs/teacher",
    "student": "python -m pose_lifting.train --model student --teacher runs/teacher/model.pt --out runs/student",
    "student_causal": "python -m pose_lifting.train --model plain --init weights/student.pt --target last "
    "--out runs/student_causal",
}


def missing_weights_message(path: Path) -> str:
    """What to do about lifter weights that do not exist: the command that trains them, or check the path."""
    how = TRAIN_COMMANDS.get(path.stem)
    hint = f"train it with `{how}` and copy runs/{path.stem}/model.pt there" if how else "check the path"
    return f"the lifter weights {path} do not exist yet: {hint} (see docs/training.md)."


class Lifter:
    """A trained lifter ready for inference."""

    def __init__(
        self,
        model: PoseLifter,
        inputs: InputConfig,
        name: str,
        device: str = "auto",
        info: dict | None = None,
        smoothing: SmoothingConfig | None = None,
    ):
        self.model = model.eval()
        self.smoothing = smoothing or SmoothingConfig()
        self.inputs = inputs
        self.name = name
        self.info = info or {}
        self.device = resolve_device(device)
        self.model.to(self.device)
        self._mflops: float | None = None

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path = "student", device: str = "auto") -> Lifter:
        """Load weights/<name>.pt or a checkpoint path; the checkpoint's stored config rebuilds its model."""
        path = weights_path(name_or_path)
        if not path.is_file():
            raise FileNotFoundError(missing_weights_message(path))
        try:
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
            model = PoseLifter(LifterConfig(**checkpoint["config"]))
            model.load_state_dict({k: v.float() for k, v in checkpoint["state_dict"].items()})
        except UNREADABLE_CHECKPOINT as error:
            raise CorruptWeightsError(
                f"the lifter weights {path} are damaged or not a lifter checkpoint ({type(error).__name__}: "
                f"{str(error)[:200]}); copy the file again or retrain it with `python -m pose_lifting.train`"
            ) from error
        info = {k: v for k, v in checkpoint.items() if k not in ("state_dict", "config", "inputs")}
        return cls(model, InputConfig(**checkpoint["inputs"]), checkpoint.get("name", path.stem), device, info)

    @property
    def config(self) -> LifterConfig:
        return self.model.config

    @property
    def num_params(self) -> int:
        return self.model.num_params

    @property
    def mflops(self) -> float:
        """MFLOPs per lifted pose, without flip augmentation (see model.count_flops)."""
        if self._mflops is None:
            self._mflops = count_flops(self.model.cpu()) / 1e6
            self.model.to(self.device)
        return self._mflops

    def predict_windows(self, dense_windows: torch.Tensor, flip_test: bool = False) -> torch.Tensor:
        """3D poses (B, J, 3) of the target frames of normalised dense windows (B, receptive_field, J, 2; 3 with the
        scores)."""
        c = self.config
        x = dense_windows[:, sparse_indices(c.receptive_field, c.stride, c.target)].to(self.device)
        with torch.inference_mode():
            pred = self.model(x)
            if flip_test:
                pred = 0.5 * (
                    pred + flip_horizontal(self.model(flip_horizontal(x, FLIP_PERMUTATION)), FLIP_PERMUTATION)
                )
        return pred.float().cpu()

    def lift(
        self,
        sequence: Pose2DSequence,
        flip_test: bool = True,
        batch_size: int = 1024,
        progress: Progress | None = None,
        smoothing: SmoothingConfig | None = None,
    ) -> Pose3DSequence:
        """Lift every frame of a 2D sequence to 3D (metres, camera axes, pelvis at the origin), smoothed over time
        as `smoothing` says (default: the lifter's `smoothing`; `SmoothingConfig("none")` turns it off)."""
        start = time.perf_counter()
        times = np.arange(len(sequence)) / sequence.fps
        keypoints = sequence.keypoints
        resampled = abs(sequence.fps - self.inputs.fps) > 0.05 * self.inputs.fps and len(sequence) > 1
        if resampled:
            model_times = np.arange(0.0, times[-1] + 1e-9, 1.0 / self.inputs.fps)
            keypoints = resample(keypoints, times, model_times)
        frames = torch.from_numpy(keypoints)
        scores = None
        if self.config.score_input:
            values = resample(sequence.scores, times, model_times) if resampled else sequence.scores
            scores = torch.from_numpy(np.asarray(values, dtype=np.float32))
        index = torch.from_numpy(video_windows(len(frames), self.config.receptive_field, 1, self.config.target))
        poses = []
        done = 0
        while done < len(frames):
            batch = index[done : done + batch_size]
            windows = normalize_windows(
                frames[batch], sequence.width, sequence.height, self.inputs.normalization, self.config.target
            )
            if scores is not None:
                windows = with_scores(windows, scores[batch])
            try:
                poses.append(self.predict_windows(windows, flip_test))
            except torch.cuda.OutOfMemoryError:
                torch.cuda.empty_cache()
                if batch_size > 16:
                    batch_size //= 2
                else:
                    self.device = torch.device("cpu")
                    self.model.to(self.device)
                continue
            done += len(batch)
            if progress:
                progress(done / len(frames), f"lifting with {self.name}")
        pose3d = torch.cat(poses).numpy()
        smoothing_start = time.perf_counter()
        pose3d = smooth_poses(
            pose3d, self.inputs.fps if resampled else sequence.fps, self.config.stride, smoothing or self.smoothing
        )
        smoothed = time.perf_counter()
        if resampled:
            pose3d = resample(pose3d, model_times, times)
        return Pose3DSequence(
            poses=pose3d,
            fps=sequence.fps,
            model=self.name,
            track_id=sequence.track_id,
            timestamps=sequence.timestamps,
            timings={"lift_s": time.perf_counter() - start, "smooth_s": smoothed - smoothing_start},
            first_frame=sequence.first_frame,
        )
