"""Kitchen catalogue (objects, layouts) and the MJCF/MjSpec scene builder.

Frame: the table top is ``z = 0``, its centre the origin, ``x`` to the right and ``y`` away from
the robot (the camera looks from ``-y``). A cabinet stands at the back of the table; its drawer
slides along ``-y`` (joint ``drawer``, 0 = closed, ``DRAWER_TRAVEL`` = fully open). The gripper is
a mocap body (``hand``) whose origin is the tool centre point between the fingertips.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import mujoco
import numpy as np

from rt2.envs.scenery import table_texture

Rgba = tuple[float, float, float, float]

FINGER_MAX = 0.05  # finger joint range (m): half of the gap between the open fingers
DRAWER_TRAVEL = 0.14
DRAWER_SIZE = (0.10, 0.10, 0.04)  # interior half-extents (x, y, wall height / 2)
DRAWER_FLOOR = 0.015  # z of the drawer floor
CAB_DEPTH = 0.24
HANDLE_GAP = 0.035  # free space between the handle bar and the drawer front
HANDLE_Z = 0.055


@dataclass(frozen=True)
class KitchenObject:
    """A movable thing: MuJoCo shape + half-sizes (m), colour and what skills it supports."""

    name: str
    shape: str  # cylinder | box | ellipsoid | capsule | bowl
    size: tuple[float, ...]
    rgba: Rgba
    category: str
    mass: float = 0.15

    def __post_init__(self) -> None:
        if self.shape not in ("cylinder", "box", "ellipsoid", "capsule", "bowl"):
            raise ValueError(f"KitchenObject.shape: unknown shape {self.shape!r}")
        if not all(s > 0 for s in self.size):
            raise ValueError(f"KitchenObject.size: expected positive sizes, got {self.size}")

    @property
    def pickable(self) -> bool:
        return self.shape != "bowl"

    @property
    def tall(self) -> bool:
        """Upright cylinders that can be knocked over and placed upright."""
        return self.shape == "cylinder" and self.size[1] >= 0.04

    @property
    def radius(self) -> float:
        """Footprint radius in the table plane."""
        if self.shape == "bowl":
            return self.size[0] + 0.008
        if self.shape == "box":
            return float(np.hypot(self.size[0], self.size[1]))
        if self.shape == "capsule":
            return self.size[1] + self.size[0]
        return float(self.size[0])

    @property
    def half_height(self) -> float:
        """Half height when resting in its default pose."""
        if self.shape == "cylinder":
            return self.size[1]
        if self.shape == "box":
            return self.size[2]
        if self.shape == "ellipsoid":
            return self.size[2]
        if self.shape == "capsule":
            return self.size[0]
        return 0.025


def _rgb(r: int, g: int, b: int, a: float = 1.0) -> Rgba:
    return (r / 255, g / 255, b / 255, a)


def _objects() -> dict[str, KitchenObject]:
    can, bottle, cup = (0.033, 0.06), (0.03, 0.085), (0.036, 0.046)
    out = [
        KitchenObject("cola can", "cylinder", can, _rgb(200, 30, 30), "can"),
        KitchenObject("lemonade can", "cylinder", can, _rgb(235, 210, 40), "can"),
        KitchenObject("soda can", "cylinder", can, _rgb(40, 90, 200), "can"),
        KitchenObject("green tea can", "cylinder", can, _rgb(50, 150, 70), "can"),
        KitchenObject("orange soda can", "cylinder", can, _rgb(240, 130, 30), "can"),
        KitchenObject("energy drink can", "cylinder", can, _rgb(150, 150, 165), "can"),
        KitchenObject("water bottle", "cylinder", bottle, _rgb(120, 190, 235), "bottle"),
        KitchenObject("juice bottle", "cylinder", bottle, _rgb(245, 160, 40), "bottle"),
        KitchenObject("red cup", "cylinder", cup, _rgb(210, 50, 50), "cup", 0.1),
        KitchenObject("white cup", "cylinder", cup, _rgb(235, 235, 235), "cup", 0.1),
        KitchenObject("blue cup", "cylinder", cup, _rgb(60, 100, 210), "cup", 0.1),
        KitchenObject("apple", "ellipsoid", (0.034, 0.034, 0.03), _rgb(200, 30, 40), "fruit"),
        KitchenObject("orange", "ellipsoid", (0.035, 0.035, 0.031), _rgb(245, 140, 20), "fruit"),
        KitchenObject("lemon", "ellipsoid", (0.038, 0.028, 0.027), _rgb(245, 225, 50), "fruit"),
        KitchenObject("lime", "ellipsoid", (0.028, 0.028, 0.025), _rgb(110, 190, 40), "fruit"),
        KitchenObject("peach", "ellipsoid", (0.033, 0.033, 0.03), _rgb(250, 170, 120), "fruit"),
        KitchenObject("pear", "ellipsoid", (0.03, 0.03, 0.04), _rgb(190, 200, 60), "fruit"),
        KitchenObject("banana", "capsule", (0.018, 0.055), _rgb(240, 215, 60), "fruit"),
        KitchenObject("red block", "box", (0.024,) * 3, _rgb(205, 40, 40), "block"),
        KitchenObject("blue block", "box", (0.024,) * 3, _rgb(40, 80, 205), "block"),
        KitchenObject("green block", "box", (0.024,) * 3, _rgb(40, 160, 60), "block"),
        KitchenObject("yellow block", "box", (0.024,) * 3, _rgb(235, 205, 40), "block"),
        KitchenObject("purple block", "box", (0.024,) * 3, _rgb(130, 60, 170), "block"),
        KitchenObject("pink block", "box", (0.024,) * 3, _rgb(240, 120, 180), "block"),
        KitchenObject("blue bowl", "bowl", (0.065, 0.03), _rgb(60, 100, 200), "bowl", 0.3),
        KitchenObject("white bowl", "bowl", (0.065, 0.03), _rgb(235, 235, 230), "bowl", 0.3),
        KitchenObject("green bowl", "bowl", (0.065, 0.03), _rgb(60, 160, 80), "bowl", 0.3),
        KitchenObject("black bowl", "bowl", (0.065, 0.03), _rgb(35, 35, 35), "bowl", 0.3),
    ]
    return {o.name: o for o in out}


KITCHEN_OBJECTS: dict[str, KitchenObject] = _objects()


def get_kitchen_object(name: str) -> KitchenObject:
    """Catalogue entry ``name``; unknown names raise with the closest match."""
    if name not in KITCHEN_OBJECTS:
        close = difflib.get_close_matches(name, list(KITCHEN_OBJECTS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"unknown kitchen object {name!r}{hint}")
    return KITCHEN_OBJECTS[name]


@dataclass(frozen=True)
class Layout:
    """A kitchen "environment": table size, cabinet side, camera, wall and floor colours."""

    name: str
    table: tuple[float, float] = (0.38, 0.28)  # half extents
    cabinet_x: float = 0.2
    camera: tuple[float, float, float] = (0.0, -0.62, 0.55)  # camera position
    wall: Rgba = (0.85, 0.85, 0.8, 1.0)
    floor: Rgba = (0.45, 0.42, 0.4, 1.0)
    cabinet: Rgba = (0.55, 0.38, 0.22, 1.0)

    def __post_init__(self) -> None:
        if abs(self.cabinet_x) > 0.25:
            raise ValueError(f"Layout.cabinet_x: expected |x| <= 0.25, got {self.cabinet_x}")

    @property
    def cabinet_front(self) -> float:
        return self.table[1] - CAB_DEPTH - 0.01


LAYOUTS: dict[str, Layout] = {
    lay.name: lay
    for lay in (
        Layout("kitchen_right", cabinet_x=0.2),
        Layout("kitchen_left", cabinet_x=-0.2, camera=(0.04, -0.6, 0.56)),
        Layout(
            "galley",
            table=(0.36, 0.27),
            cabinet_x=0.18,
            camera=(-0.08, -0.58, 0.6),
            wall=(0.7, 0.8, 0.9, 1.0),
            cabinet=(0.9, 0.9, 0.92, 1.0),
        ),
        Layout(
            "pantry",
            table=(0.4, 0.28),
            cabinet_x=-0.22,
            camera=(0.08, -0.64, 0.5),
            wall=(0.5, 0.55, 0.45, 1.0),
            floor=(0.25, 0.25, 0.3, 1.0),
            cabinet=(0.3, 0.35, 0.45, 1.0),
        ),
    )
}


@dataclass(frozen=True)
class Placement:
    """An object on the table: xy centre, yaw (rad) and whether it lies on its side."""

    name: str
    x: float
    y: float
    yaw: float = 0.0
    lying: bool = False


@dataclass(frozen=True)
class KitchenScene:
    """Everything needed to build one episode's MuJoCo model."""

    layout: Layout
    background: str
    objects: tuple[Placement, ...]
    drawer_open: float = 0.0
    brightness: float = 1.0
    light_dir: tuple[float, float, float] = (0.3, 0.2, -1.0)
    camera_jitter: tuple[float, float, float] = (0.0, 0.0, 0.0)
    texture_seed: int = 0
    hand: tuple[float, float, float] = (0.0, -0.15, 0.22)
    extra: dict[str, float] = field(default_factory=dict, compare=False)


def object_quat(p: Placement) -> np.ndarray:
    """(4,) wxyz orientation of a placement: yaw about z, then lying = 90 deg about x."""
    q = np.array([np.cos(p.yaw / 2), 0.0, 0.0, np.sin(p.yaw / 2)])
    if p.lying:
        lie = np.array([np.cos(np.pi / 4), np.sin(np.pi / 4), 0.0, 0.0])
        out = np.zeros(4)
        mujoco.mju_mulQuat(out, q, lie)
        return out
    return q


def rest_height(obj: KitchenObject, lying: bool) -> float:
    """z of the object's centre resting on the table."""
    if lying and obj.shape == "cylinder":
        return obj.size[0]
    if obj.shape == "bowl":
        return 0.0
    return obj.half_height


def _f(v: tuple[float, ...] | np.ndarray) -> str:
    return " ".join(f"{float(x):.5g}" for x in v)


def _object_xml(i: int, p: Placement, obj: KitchenObject) -> str:
    z = rest_height(obj, p.lying) + 0.002
    q = object_quat(p)
    head = f'<body name="obj{i}" pos="{p.x:.5g} {p.y:.5g} {z:.5g}" quat="{_f(q)}"><freejoint/>'
    col = f'rgba="{_f(obj.rgba)}" condim="4" friction="1.0 0.01 0.001" priority="1"'
    if obj.shape == "bowl":
        r, h = obj.size
        parts = [
            f'<geom type="cylinder" size="{r * 0.7:.4g} 0.004" pos="0 0 0.004" mass="{obj.mass / 2}" {col}/>'
        ]
        n = 12
        for k in range(n):
            a = 2 * np.pi * k / n
            c, s = np.cos(a), np.sin(a)
            parts.append(
                f'<geom type="box" size="0.005 {r * 0.28:.4g} {h / 2:.4g}" '
                f'pos="{r * c:.4g} {r * s:.4g} {h / 2:.4g}" euler="0 0.35 {a:.4g}" '
                f'mass="{obj.mass / (2 * n):.4g}" {col}/>'
            )
        return head + "".join(parts) + "</body>"
    size = obj.size
    if obj.shape == "capsule":  # lies along x
        geom = (
            f'<geom type="capsule" size="{_f(size)}" euler="0 1.5708 0" mass="{obj.mass}" {col}/>'
        )
    else:
        geom = f'<geom type="{obj.shape}" size="{_f(size)}" mass="{obj.mass}" {col}/>'
    return head + geom + "</body>"


def _cabinet_xml(lay: Layout, drawer_open: float) -> str:
    cx, front = lay.cabinet_x, lay.cabinet_front
    w, d, h = 0.13, CAB_DEPTH / 2, 0.07  # cabinet half extents (the drawer box is inside)
    cy = front + d
    dx, dy, dh = DRAWER_SIZE
    wall = 0.006
    col = f'rgba="{_f(lay.cabinet)}"'
    top = 2 * h
    cab = (
        f'<body name="cabinet" pos="{cx:.4g} {cy:.4g} 0">'
        f'<geom type="box" size="{w} {d} 0.006" pos="0 0 {top - 0.006:.4g}" {col}/>'
        f'<geom type="box" size="0.008 {d} {h}" pos="{-w + 0.008:.4g} 0 {h}" {col}/>'
        f'<geom type="box" size="0.008 {d} {h}" pos="{w - 0.008:.4g} 0 {h}" {col}/>'
        f'<geom type="box" size="{w} 0.008 {h}" pos="0 {d - 0.008:.4g} {h}" {col}/>'
        f'<geom type="box" size="{w} {d} 0.003" pos="0 0 0.003" {col}/>'
    )
    # drawer: its front panel sits in the cabinet's front plane when closed
    fy = -d + wall  # drawer front (inner face) in cabinet frame
    yc = fy + dy + wall
    zc = DRAWER_FLOOR + dh
    dcol = 'rgba="0.8 0.7 0.55 1"'
    drawer = (
        f'<body name="drawer" pos="0 0 0"><joint name="drawer" type="slide" axis="0 -1 0" '
        f'range="0 {DRAWER_TRAVEL}" damping="8" frictionloss="0.3" ref="0"/>'
        f'<geom type="box" size="{dx + wall} {dy + wall} 0.004" pos="0 {yc:.4g} {DRAWER_FLOOR - 0.004:.4g}" mass="0.3" {dcol}/>'
        f'<geom type="box" size="{wall} {dy + wall} {dh}" pos="{-dx - wall:.4g} {yc:.4g} {zc:.4g}" mass="0.05" {dcol}/>'
        f'<geom type="box" size="{wall} {dy + wall} {dh}" pos="{dx + wall:.4g} {yc:.4g} {zc:.4g}" mass="0.05" {dcol}/>'
        f'<geom type="box" size="{dx + wall} {wall} {dh}" pos="0 {yc + dy + wall:.4g} {zc:.4g}" mass="0.05" {dcol}/>'
        f'<geom name="drawer_front" type="box" size="{w - 0.018:.4g} {wall} 0.05" '
        f'pos="0 {fy - wall:.4g} 0.057" mass="0.1" {col}/>'
        f'<geom name="handle" type="box" size="0.05 0.005 0.006" '
        f'pos="0 {fy - 2 * wall - HANDLE_GAP - 0.005:.4g} {HANDLE_Z}" mass="0.02" rgba="0.2 0.2 0.2 1"/>'
    )
    for sx in (-1, 1):
        drawer += (
            f'<geom type="box" size="0.005 {HANDLE_GAP / 2 + 0.005:.4g} 0.006" '
            f'pos="{sx * 0.055:.4g} {fy - 2 * wall - HANDLE_GAP / 2:.4g} {HANDLE_Z}" mass="0.01" rgba="0.2 0.2 0.2 1"/>'
        )
    drawer += "</body>"
    del drawer_open
    return cab + drawer + "</body>"


def _hand_xml(pos: tuple[float, float, float]) -> str:
    col = 'rgba="0.25 0.25 0.28 1"'
    fcol = 'rgba="0.15 0.15 0.15 1" condim="4" friction="1.5 0.02 0.001" priority="2"'
    fingers = ""
    for side, sx in (("left", -1), ("right", 1)):
        fingers += (
            f'<body name="{side}_finger" pos="0 0 0" gravcomp="1"><joint name="{side}_finger" type="slide" '
            f'axis="{sx} 0 0" range="0 {FINGER_MAX}" damping="2"/>'
            f'<geom type="box" size="0.008 0.012 0.04" pos="{sx * 0.008} 0 0.03" mass="0.05" {fcol}/>'
            "</body>"
        )
    return (
        f'<body name="hand_target" mocap="true" pos="{_f(pos)}"/>'
        f'<body name="hand" pos="{_f(pos)}" gravcomp="1"><freejoint name="hand"/>'
        f'<geom type="box" size="0.075 0.02 0.012" pos="0 0 0.082" contype="0" conaffinity="0" mass="0.3" {col}/>'
        f'<geom type="cylinder" size="0.015 0.06" pos="0 0 0.15" contype="0" conaffinity="0" mass="0.2" {col}/>'
        f"{fingers}</body>"
    )


def _look_at(eye: np.ndarray, target: np.ndarray) -> str:
    fwd = target - eye
    fwd /= np.linalg.norm(fwd)
    right = np.cross(fwd, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, fwd)
    return _f(np.concatenate([right, up]))


def build_model(scene: KitchenScene, image_size: int, tex_size: int = 64) -> mujoco.MjModel:
    """Compile the MuJoCo model of ``scene`` (offscreen buffer sized for ``image_size``)."""
    lay = scene.layout
    tx, ty = lay.table
    b = scene.brightness
    eye = np.array(lay.camera) + np.array(scene.camera_jitter)
    objs = "".join(
        _object_xml(i, p, get_kitchen_object(p.name)) for i, p in enumerate(scene.objects)
    )
    buf = max(image_size, 64)
    xml = f"""<mujoco model="kitchen">
<option timestep="0.0025" integrator="implicitfast" cone="elliptic" impratio="5"/>
<visual><global offwidth="{buf}" offheight="{buf}"/><quality offsamples="0" shadowsize="0"/>
<headlight ambient="{0.25 * b:.3g} {0.25 * b:.3g} {0.25 * b:.3g}" diffuse="{0.3 * b:.3g} {0.3 * b:.3g} {0.3 * b:.3g}" specular="0 0 0"/></visual>
<asset><material name="table" texture="table_tex" texrepeat="1 1" texuniform="false"/></asset>
<worldbody>
<light directional="true" castshadow="false" dir="{_f(scene.light_dir)}" diffuse="{0.6 * b:.3g} {0.6 * b:.3g} {0.55 * b:.3g}" specular="0.1 0.1 0.1"/>
<geom name="floor" type="plane" size="2 2 0.1" pos="0 0 -0.75" rgba="{_f(lay.floor)}" contype="0" conaffinity="0"/>
<geom name="wall" type="box" size="2 0.01 1" pos="0 {ty + 0.15:.4g} 0" rgba="{_f(lay.wall)}" contype="0" conaffinity="0"/>
<geom name="table" type="box" size="{tx} {ty} 0.02" pos="0 0 -0.02" material="table" condim="4" friction="1.0 0.01 0.001"/>
<camera name="front" pos="{_f(eye)}" xyaxes="{_look_at(eye, np.array([0.0, 0.02, 0.0]))}" fovy="55"/>
{_cabinet_xml(lay, scene.drawer_open)}
{_hand_xml(scene.hand)}
{objs}
</worldbody>
<actuator>
<position name="left_finger" joint="left_finger" kp="400" kv="10" ctrlrange="0 {FINGER_MAX}" forcerange="-25 25"/>
<position name="right_finger" joint="right_finger" kp="400" kv="10" ctrlrange="0 {FINGER_MAX}" forcerange="-25 25"/>
</actuator>
<contact><exclude body1="left_finger" body2="right_finger"/></contact>
<equality><weld body1="hand_target" body2="hand" solref="0.01 1"/></equality>
</mujoco>"""
    spec = mujoco.MjSpec.from_string(xml)
    img = table_texture(scene.background, scene.texture_seed, tex_size, tex_size)
    tex = spec.add_texture(
        name="table_tex",
        type=mujoco.mjtTexture.mjTEXTURE_2D,
        width=tex_size,
        height=tex_size,
        nchannel=3,
    )
    tex.data = np.ascontiguousarray(img).tobytes()
    return spec.compile()
