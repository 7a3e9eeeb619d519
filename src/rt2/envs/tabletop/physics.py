"""Planar pushing physics with pymunk (units: metres, kilograms, seconds).

Objects are discs sliding on the table with Coulomb-like friction (a pivot and a gear joint to
the static body with bounded force: the usual top-down friction trick). The pusher is a disc
dragged by a bounded-force joint toward a kinematic control point, so it cannot crush objects
through the table border.
"""

from __future__ import annotations

import numpy as np
import pymunk

from rt2.envs.tabletop.catalogue import get_object
from rt2.envs.tabletop.scene import Scene

GRAVITY = 9.81
FRICTION = 0.5  # table friction coefficient
EFFECTOR_RADIUS = 0.012
CONTROL_HZ = 10.0


class PushWorld:
    """The pymunk space for one episode. Positions are numpy (2,) arrays in metres."""

    def __init__(self, scene: Scene, substeps: int = 5) -> None:
        env = scene.environment
        self.half = np.array([env.width / 2, env.height / 2])
        self.substeps = substeps
        self.dt = 1.0 / CONTROL_HZ
        space = pymunk.Space()
        space.iterations = 10
        space.collision_slop = 1e-4
        self.space = space
        static = space.static_body
        hx, hy = self.half
        corners = [(-hx, -hy), (hx, -hy), (hx, hy), (-hx, hy)]
        for a, b in zip(corners, corners[1:] + corners[:1], strict=True):
            wall = pymunk.Segment(static, a, b, 0.01)
            wall.friction = 0.3
            wall.elasticity = 0.0
            space.add(wall)
        self.names: list[str] = []
        self.bodies: list[pymunk.Body] = []
        self.radii: list[float] = []
        for placed in scene.objects:
            entry = get_object(placed.name)
            body = pymunk.Body(entry.mass, pymunk.moment_for_circle(entry.mass, 0, entry.radius))
            body.position = placed.pos
            body.angle = placed.angle
            shape = pymunk.Circle(body, entry.radius)
            shape.friction = 0.4
            shape.elasticity = 0.0
            lin = pymunk.PivotJoint(static, body, (0, 0), (0, 0))
            lin.max_bias = 0
            lin.max_force = FRICTION * entry.mass * GRAVITY
            rot = pymunk.GearJoint(static, body, 0.0, 1.0)
            rot.max_bias = 0
            rot.max_force = 0.5 * FRICTION * entry.mass * GRAVITY * entry.radius
            space.add(body, shape, lin, rot)
            self.names.append(placed.name)
            self.bodies.append(body)
            self.radii.append(entry.radius)
        self.index = {n: i for i, n in enumerate(self.names)}
        # the pusher
        self.control = pymunk.Body(body_type=pymunk.Body.KINEMATIC)
        self.control.position = scene.effector
        self.effector = pymunk.Body(2.0, pymunk.moment_for_circle(2.0, 0, EFFECTOR_RADIUS))
        self.effector.position = scene.effector
        eff_shape = pymunk.Circle(self.effector, EFFECTOR_RADIUS)
        eff_shape.friction = 0.3
        drag = pymunk.PivotJoint(self.control, self.effector, (0, 0), (0, 0))
        drag.max_bias = 2.0  # m/s
        drag.max_force = 40.0
        gear = pymunk.GearJoint(self.control, self.effector, 0.0, 1.0)
        space.add(self.control, self.effector, eff_shape, drag, gear)
        self.target = np.array(scene.effector, dtype=np.float64)
        margin = EFFECTOR_RADIUS + 0.005
        self.lo, self.hi = -self.half + margin, self.half - margin

    def step(self, delta: np.ndarray) -> None:
        """Move the pusher's target by ``delta`` (2,) metres and simulate one 10 Hz control step."""
        new = np.clip(self.target + delta, self.lo, self.hi)
        h = self.dt / self.substeps
        vel = (new - self.target) / self.dt
        self.control.velocity = (float(vel[0]), float(vel[1]))
        for _ in range(self.substeps):
            self.space.step(h)
        self.control.velocity = (0.0, 0.0)
        self.control.position = (float(new[0]), float(new[1]))
        self.target = new

    # ---- state ----------------------------------------------------------------------------
    def effector_pos(self) -> np.ndarray:
        p = self.effector.position
        return np.array([p.x, p.y])

    def positions(self) -> np.ndarray:
        """(N, 2) object centres."""
        return np.array([[b.position.x, b.position.y] for b in self.bodies]).reshape(-1, 2)

    def angles(self) -> np.ndarray:
        """(N,) object angles in radians."""
        return np.array([b.angle for b in self.bodies])

    def position(self, name: str) -> np.ndarray:
        p = self.bodies[self.index[name]].position
        return np.array([p.x, p.y])
