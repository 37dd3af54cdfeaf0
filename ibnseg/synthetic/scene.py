"""Procedural street layouts: the content (and so the labels) of a scene.

Laid out in 3D in units of the camera height (camera at height 1, looking
down the street along +Z) and projected with a pinhole camera: a road between
sidewalks, facades cut into buildings, vegetation and gaps, a backdrop, and
cars, persons, poles (some with signs) and trees, so sizes shrink with
distance and nearer things occlude farther ones. Colours are the renderer's
(:mod:`.render`): one layout renders in every domain with one label map.
"""
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import cv2
import numpy as np

from .materials import MATERIAL_INDEX, MATERIAL_LABEL_IDS

# cv2 draws with sub-pixel precision when coordinates are fixed point with
# this many fractional bits; without it small, far objects jitter by a pixel.
_SHIFT = 4
_ONE = 1 << _SHIFT

_M = MATERIAL_INDEX
# facade segment kinds
_GAP, _BUILDING, _VEGETATION = 0, 1, 2


@dataclass
class Scene:
    """The geometry of one synthetic street scene.

    Attributes:
        material (np.ndarray): HxW uint8 index into ``MATERIALS``.
        region (np.ndarray): HxW int32 surface id (one building, one car's
            body, ...); the renderer gives each region its own colour.
        region_material (np.ndarray): (R,) uint8 material of each region;
            pixels of another material are its details (windows, marks).
        depth (np.ndarray): HxW float32 distance along the view axis in
            camera heights; ``inf`` for the sky.
        horizon (float): Image row of the horizon.
    """
    material: np.ndarray
    region: np.ndarray
    region_material: np.ndarray
    depth: np.ndarray
    horizon: float

    @property
    def label_ids(self) -> np.ndarray:
        """HxW uint8 map of Cityscapes label ids."""
        return MATERIAL_LABEL_IDS[self.material]

    @property
    def size(self) -> Tuple[int, int]:
        """(height, width) in pixels."""
        return self.material.shape


class _Canvas:
    """Projection, the region/material/depth buffers and region bookkeeping
    shared by all drawing steps. Starts as all sky (region 0)."""

    def __init__(self, height: int, width: int, focal: float, horizon: float,
                 center_x: float):
        self.height, self.width = height, width
        self.focal, self.horizon, self.center_x = focal, horizon, center_x
        self.region_material: List[int] = []
        self.region_depth: List[float] = []
        self.region = np.full((height, width), self.new_region('sky'),
                              np.int32)
        self.material = np.full((height, width), _M['sky'], np.uint8)
        self.depth = np.full((height, width), np.inf, np.float32)

    def offsets(self, rows: slice, cols: slice):
        """Pixel offsets from the vanishing point: dx (1, w), dy (h, 1)."""
        dx = np.arange(self.width, dtype=np.float32)[cols] - self.center_x
        dy = np.arange(self.height, dtype=np.float32)[rows] - self.horizon
        return dx[None, :], dy[:, None]

    def nearer(self, rows: slice, cols: slice, depth) -> np.ndarray:
        """Depth test: where ``depth`` beats the buffer in the window
        ``rows`` x ``cols``, store it and return that mask."""
        buffer = self.depth[rows, cols]
        mask = depth < buffer
        buffer[mask] = depth[mask]
        return mask

    def write(self, rows: slice, cols: slice, mask, region, material) -> None:
        self.region[rows, cols][mask] = region
        self.material[rows, cols][mask] = material

    def new_region(self, material: str, depth: float = np.nan) -> int:
        self.region_material.append(_M[material])
        self.region_depth.append(depth)
        return len(self.region_material) - 1

    def project(self, x, y, z) -> np.ndarray:
        """Image coordinates (N, 2) of 3D points (camera-height units)."""
        x, y, z = (np.asarray(v, np.float64) for v in (x, y, z))
        return np.stack([self.center_x + self.focal * x / z,
                         self.horizon + self.focal * (1.0 - y) / z], axis=-1)

    def ground_row(self, z: float) -> float:
        return self.horizon + self.focal / z

    def fill_convex(self, points: np.ndarray, region: int) -> None:
        hull = cv2.convexHull(np.round(points * _ONE).astype(np.int32))
        cv2.fillConvexPoly(self.region, hull, int(region), cv2.LINE_8, _SHIFT)

    def fill_box(self, x0, x1, y0, y1, z0, z1, region: int) -> None:
        """Fill the projection of an axis-aligned 3D box."""
        xs, ys, zs = np.meshgrid([x0, x1], [y0, y1], [z0, z1], indexing='ij')
        self.fill_convex(self.project(xs.ravel(), ys.ravel(), zs.ravel()),
                         region)

    def fill_quad(self, corners_xy: Sequence[Tuple[float, float]], z: float,
                  region: int) -> None:
        """Fill a polygon on the plane at depth ``z`` facing the camera."""
        xy = np.asarray(corners_xy, np.float64)
        self.fill_convex(self.project(xy[:, 0], xy[:, 1], np.full(len(xy), z)),
                         region)

    def fill_ellipse(self, x: float, y: float, z: float, radius_x: float,
                     radius_y: float, region: int) -> None:
        """Fill an ellipse on the plane at depth ``z`` facing the camera."""
        center = self.project(x, y, z)
        scale = self.focal / z
        axes = tuple(max(int(round(r * scale * _ONE)), 1)
                     for r in (radius_x, radius_y))
        cv2.ellipse(
            self.region,
            (int(round(center[0] * _ONE)), int(round(center[1] * _ONE))), axes,
            0, 0, 360, int(region), -1, cv2.LINE_8, _SHIFT)


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    # depth drawn log-uniformly covers near (big) and far (small) instances
    # evenly, instead of crowding everything at the horizon
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _window_mask(u, height, params, index):
    """Window grid on a facade: ``u`` runs along the wall, ``height`` up it.

    ``params`` holds per-segment arrays (origin, pitch along u, column start
    and width as fractions of the pitch, ground-floor height, storey pitch,
    window height as a fraction of it, top, enabled), looked up by segment
    ``index`` per pixel.
    """
    (origin, pitch_u, start, width, floor, pitch_y, fill_y, top,
     enabled) = (p[index] for p in params)
    column = np.mod((u - origin) / pitch_u - start, 1.0) < width
    row = np.mod((height - floor) / pitch_y, 1.0) < fill_y
    return (enabled & column & row & (height > floor)
            & (height < top - 0.4 * pitch_y))


class _Wall:
    """A plane cut into segments, each a building (with a window grid), a
    stretch of vegetation with an undulating top, or a gap."""

    def __init__(self, canvas: _Canvas, rng: np.random.Generator, bounds,
                 weights, building_top, vegetation_top):
        count = len(bounds) - 1
        self.bounds = np.asarray(bounds, np.float32)
        self.kind = rng.choice(3, size=count, p=weights)
        is_building = self.kind == _BUILDING
        self.top = np.where(is_building, rng.uniform(*building_top, count),
                            rng.uniform(*vegetation_top, count))
        # vegetation tops undulate; buildings have flat roofs
        self.wave = np.where(self.kind == _VEGETATION,
                             rng.uniform(0.2, 0.8, count), 0.0)
        self.wave_freq = rng.uniform(0.8, 2.5, count)
        self.wave_phase = rng.uniform(0, 2 * np.pi, count)
        self.top, self.wave, self.wave_freq, self.wave_phase = (a.astype(
            np.float32) for a in (self.top, self.wave, self.wave_freq,
                                  self.wave_phase))
        self.regions = np.array([
            canvas.new_region('building_wall' if kind ==
                              _BUILDING else 'vegetation')
            for kind in self.kind
        ], np.int32)
        self.materials = np.where(is_building, _M['building_wall'],
                                  _M['vegetation']).astype(np.uint8)
        self.windows = tuple(
            a.astype(np.float32) for a in
            (self.bounds[:-1], rng.uniform(1.0, 2.4, count),
             rng.uniform(0.0, 0.3, count), rng.uniform(0.3, 0.6, count),
             rng.uniform(0.8, 2.2, count), rng.uniform(1.6, 2.4, count),
             rng.uniform(0.35, 0.65, count), self.top)) + (
                 (rng.random(count) < 0.9) & is_building, )

    def paint(self, canvas: _Canvas, rows: slice, cols: slice, depth, u,
              height) -> None:
        """Paint the wall where its ``depth`` (per pixel of the window
        ``rows`` x ``cols``) wins; ``u`` is the position along the wall."""
        index = np.clip(
            np.searchsorted(self.bounds, u, side='right') - 1, 0,
            len(self.kind) - 1)
        top = self.top[index] + self.wave[index] * np.sin(
            u * self.wave_freq[index] + self.wave_phase[index])
        hit = (self.kind[index] != _GAP) & (height >= 0) & (height <= top)
        nearer = canvas.nearer(rows, cols, np.where(hit, depth, np.inf))
        index = index[nearer]
        material = self.materials[index]
        material[_window_mask(u[nearer], height[nearer], self.windows,
                              index)] = _M['building_window']
        canvas.write(rows, cols, nearer, self.regions[index], material)


def _draw_facade(canvas: _Canvas, rng: np.random.Generator, plane_x: float,
                 far_z: float) -> None:
    """One side of the street: the plane ``X = plane_x``, cut along Z."""
    # streets differ: mostly built-up, sometimes park-like
    weights = ((0.12, 0.78, 0.10) if rng.random() < 0.75 else
               (0.20, 0.25, 0.55))
    bounds = [0.0]
    while bounds[-1] < far_z:
        bounds.append(bounds[-1] + rng.uniform(3.0, 12.0))
    wall = _Wall(canvas, rng, bounds, weights, (3.0, 16.0), (1.2, 4.0))
    # only the columns on this side of the vanishing point can see it
    split = int(np.clip(np.ceil(canvas.center_x), 0, canvas.width))
    cols = slice(0, split) if plane_x < 0 else slice(split, canvas.width)
    dx, dy = canvas.offsets(slice(None), cols)
    with np.errstate(divide='ignore', invalid='ignore'):
        z = canvas.focal * plane_x / dx
    seen = (z > 0) & (z < far_z)
    z = np.where(seen, z, 0.0).astype(np.float32)
    height = 1.0 - dy * z / canvas.focal
    u = np.broadcast_to(z, height.shape)
    depth = np.broadcast_to(np.where(seen, z, np.inf), height.shape)
    wall.paint(canvas, slice(None), cols, depth, u, height)


def _draw_backdrop(canvas: _Canvas, rng: np.random.Generator,
                   far_z: float) -> None:
    """Frontal wall at ``far_z`` closing the street, across the whole view."""
    half_span = canvas.width * far_z / canvas.focal
    edges = [-half_span - 1.0]
    while edges[-1] < half_span + 1.0:
        edges.append(edges[-1] + rng.uniform(3.0, 14.0))
    wall = _Wall(canvas, rng, edges, (0.0, 0.75, 0.25), (2.0, 14.0),
                 (1.5, 5.0))
    # rows below the wall's foot see the ground in front of it
    foot = int(
        np.clip(np.floor(canvas.ground_row(far_z)) + 1, 0, canvas.height))
    rows = slice(0, foot)
    dx, dy = canvas.offsets(rows, slice(None))
    u = np.broadcast_to(dx * (far_z / canvas.focal), (foot, canvas.width))
    height = np.broadcast_to(1.0 - dy * (far_z / canvas.focal), u.shape)
    wall.paint(canvas, rows, slice(None), np.full(u.shape, far_z, np.float32),
               u, height)


class _Street:
    """Road, curbs and sidewalks in 3D (X across the street)."""

    def __init__(self, canvas: _Canvas, rng: np.random.Generator):
        self.road = (-rng.uniform(1.5, 4.5), rng.uniform(2.0, 6.0))
        self.walk_width = (rng.uniform(1.0, 3.0), rng.uniform(1.0, 3.0))
        self.facade_x = (self.road[0] - self.walk_width[0],
                         self.road[1] + self.walk_width[1])
        self.curb_width = rng.uniform(0.12, 0.25)
        road_width = self.road[1] - self.road[0]
        # a dashed centre line on most roads, solid edge lines on some
        self.center_line = (self.road[0] +
                            road_width * rng.uniform(0.4, 0.6) if
                            road_width > 3.5 and rng.random() < 0.8 else None)
        self.dash = (rng.uniform(3.0, 8.0), rng.uniform(0.35, 0.65))
        self.edge_lines = rng.random() < 0.4
        self.crossing = (rng.uniform(4.0, 20.0)
                         if rng.random() < 0.25 else None)
        self.road_region = canvas.new_region('road')
        self.walk_regions = (canvas.new_region('sidewalk'),
                             canvas.new_region('sidewalk'))

    def paint(self, canvas: _Canvas) -> None:
        """Paint the ground: every row below the horizon."""
        first = int(np.clip(np.floor(canvas.horizon) + 1, 0, canvas.height))
        rows = slice(first, canvas.height)
        dx, dy = canvas.offsets(rows, slice(None))
        z = np.broadcast_to(canvas.focal / np.maximum(dy, 1e-3),
                            (canvas.height - first, canvas.width))
        x = dx * z / canvas.focal
        left, right = self.road
        region = np.where(
            x < left, self.walk_regions[0],
            np.where(x > right, self.walk_regions[1],
                     self.road_region)).astype(np.int32)
        material = np.where(region == self.road_region, _M['road'],
                            _M['sidewalk']).astype(np.uint8)
        curb = ((x < left) & (x >= left - self.curb_width)) | (
            (x > right) & (x <= right + self.curb_width))
        marks = np.zeros_like(curb)
        if self.center_line is not None:
            period, duty = self.dash
            marks |= (np.abs(x - self.center_line) < 0.07) & (np.mod(
                z / period, 1.0) < duty)
        if self.edge_lines:
            marks |= (np.abs(x - left - 0.3) < 0.05) | (np.abs(x - right + 0.3)
                                                        < 0.05)
        if self.crossing is not None:
            marks |= ((z >= self.crossing) & (z <= self.crossing + 2.0)
                      & (np.mod(x / 0.6, 1.0) < 0.5))
        material[curb] = _M['curb']
        material[marks & (x >= left) & (x <= right)] = _M['road_marking']
        nearer = canvas.nearer(rows, slice(None), z)
        canvas.write(rows, slice(None), nearer, region[nearer],
                     material[nearer])


# ---------------------------------------------------------------- objects
def _draw_car(canvas, rng, x, z):
    width, height = rng.uniform(1.1, 1.35), rng.uniform(0.9, 1.2)
    length = rng.uniform(2.6, 3.4)
    body = canvas.new_region('car_body', z)
    glass = canvas.new_region('car_window', z)
    wheel = canvas.new_region('car_wheel', z)
    light = canvas.new_region('car_light', z)
    x0, x1 = x - width / 2, x + width / 2
    belt = height * rng.uniform(0.55, 0.65)
    canvas.fill_box(x0, x1, 0.18, belt, z, z + length, body)
    inset = width * 0.08
    canvas.fill_box(x0 + inset, x1 - inset, belt, height,
                    z + length * rng.uniform(0.15, 0.3),
                    z + length * rng.uniform(0.65, 0.8), glass)
    # rear wheels peek out under the rear bumper
    for wx in (x0 + 0.05, x1 - 0.3):
        canvas.fill_quad([(wx, 0.0), (wx + 0.25, 0.0), (wx + 0.25, 0.3),
                          (wx, 0.3)], z + 0.05, wheel)
    # the side facing the camera shows its wheels
    side = x0 if x0 > 0 else (x1 if x1 < 0 else None)
    if side is not None:
        for wz in (z + 0.2 * length, z + 0.8 * length):
            canvas.fill_box(side, side, 0.0, 0.42, wz - 0.3, wz + 0.3, wheel)
    for lx in (x0 + 0.05, x1 - 0.25):
        canvas.fill_quad([(lx, belt - 0.2), (lx + 0.2, belt - 0.2),
                          (lx + 0.2, belt - 0.05), (lx, belt - 0.05)],
                         z - 0.01, light)


def _draw_person(canvas, rng, x, z):
    tall = rng.uniform(1.0, 1.3)
    bottom = canvas.new_region('person_bottom', z)
    top = canvas.new_region('person_top', z)
    skin = canvas.new_region('person_skin', z)
    hip, shoulder = 0.48 * tall, 0.82 * tall
    stride = rng.uniform(0.0, 0.18) * tall
    for sign in (-1, 1):
        hx = x + sign * 0.06 * tall
        fx = hx + sign * stride / 2
        canvas.fill_quad([(hx - 0.05 * tall, hip), (hx + 0.05 * tall, hip),
                          (fx + 0.04 * tall, 0.0), (fx - 0.04 * tall, 0.0)], z,
                         bottom)
    half = 0.15 * tall
    canvas.fill_quad([(x - half, shoulder), (x + half, shoulder),
                      (x + 0.8 * half, hip), (x - 0.8 * half, hip)], z, top)
    for sign in (-1, 1):
        ax = x + sign * half
        canvas.fill_quad([(ax, shoulder), (ax + sign * 0.07 * tall, shoulder),
                          (ax + sign * 0.1 * tall, hip + 0.03 * tall),
                          (ax + sign * 0.03 * tall, hip + 0.03 * tall)], z,
                         top)
    canvas.fill_ellipse(x, 0.91 * tall, z, 0.055 * tall, 0.075 * tall, skin)


def _draw_pole(canvas, rng, x, z, toward_road):
    tall, thick = rng.uniform(3.0, 5.5), rng.uniform(0.08, 0.15)
    pole = canvas.new_region('pole', z)
    canvas.fill_box(x - thick / 2, x + thick / 2, 0.0, tall, z, z + thick,
                    pole)
    if rng.random() < 0.55:
        size = rng.uniform(0.35, 0.55)
        border = canvas.new_region('sign_border', z - 0.02)
        face = canvas.new_region('sign_face', z - 0.03)
        cy = tall - rng.uniform(0.3, 1.2)
        shape = rng.integers(4)
        for region, r, dz in ((border, size / 2, 0.02), (face, size / 2 * 0.8,
                                                         0.03)):
            if shape == 0:  # round
                canvas.fill_ellipse(x, cy, z - dz, r, r, region)
            elif shape == 1:  # triangle
                canvas.fill_quad([(x - r, cy + 0.6 * r), (x + r, cy + 0.6 * r),
                                  (x, cy - r)], z - dz, region)
            elif shape == 2:  # rectangle
                canvas.fill_quad([(x - r, cy - 0.7 * r), (x + r, cy - 0.7 * r),
                                  (x + r, cy + 0.7 * r),
                                  (x - r, cy + 0.7 * r)], z - dz, region)
            else:  # diamond
                canvas.fill_quad([(x - r, cy), (x, cy + r), (x + r, cy),
                                  (x, cy - r)], z - dz, region)
    elif rng.random() < 0.5:  # street lamp: an arm over the road
        reach = rng.uniform(0.8, 2.0) * toward_road
        canvas.fill_box(min(x, x + reach), max(x, x + reach), tall - thick,
                        tall, z, z + thick, pole)


def _draw_tree(canvas, rng, x, z):
    trunk_height = rng.uniform(1.2, 2.5)
    thick = rng.uniform(0.15, 0.25)
    trunk = canvas.new_region('tree_trunk', z)
    crown = canvas.new_region('vegetation', z - 0.01)
    canvas.fill_box(x - thick / 2, x + thick / 2, 0.0, trunk_height + 0.3, z,
                    z + thick, trunk)
    radius = rng.uniform(0.8, 1.8)
    cy = trunk_height + 0.7 * radius
    for _ in range(rng.integers(4, 8)):
        ox, oy = rng.normal(0.0, 0.4 * radius, 2)
        r = radius * rng.uniform(0.5, 0.8)
        canvas.fill_ellipse(x + ox, cy + 0.6 * oy, z - 0.01, r,
                            r * rng.uniform(0.8, 1.1), crown)


def _place_objects(canvas: _Canvas, rng: np.random.Generator, street: _Street,
                   far_z: float):
    """Sample every object, then draw them far to near (painter's order).

    Objects stand between the facades and in front of the backdrop, so
    drawing them over the stuff layers is a correct occlusion.
    """
    near = 0.85 * canvas.focal / (canvas.height - canvas.horizon)

    def depth(low, high):
        return _log_uniform(rng, low, min(high, 0.9 * far_z))

    (left, right), (fl, fr) = street.road, street.facade_x
    objects = []  # (z, draw function, keyword arguments)
    cars: List[Tuple[float, float]] = []
    for _ in range(min(rng.poisson(2.5), 8)):
        if rng.random() < 0.4:  # parked along a curb
            x = left + 0.75 if rng.random() < 0.5 else right - 0.75
        else:
            x = rng.uniform(left + 0.8, right - 0.8)
        z = depth(near * 1.1, 45.0)
        # cars do not interpenetrate
        if all(abs(x - cx) > 1.4 or abs(z - cz) > 3.6 for cx, cz in cars):
            cars.append((x, z))
            objects.append((z, _draw_car, dict(x=x)))
    for _ in range(min(rng.poisson(2.5), 8)):
        if rng.random() < 0.85:
            x = (rng.uniform(fl + 0.3, left - 0.3)
                 if rng.random() < 0.5 else rng.uniform(right + 0.3, fr - 0.3))
        else:  # crossing the road
            x = rng.uniform(left, right)
        objects.append((depth(near, 35.0), _draw_person, dict(x=x)))
    for _ in range(min(1 + rng.poisson(1.5), 6)):
        on_left = rng.random() < 0.5
        x = (left - rng.uniform(0.3, 0.6) if on_left else right +
             rng.uniform(0.3, 0.6))
        objects.append((depth(near, 50.0), _draw_pole,
                        dict(x=x, toward_road=1.0 if on_left else -1.0)))
    for _ in range(min(rng.poisson(2.0), 6)):
        x = (fl + rng.uniform(0.4, 0.9) if rng.random() < 0.5 else fr -
             rng.uniform(0.4, 0.9))
        objects.append((depth(near, 60.0), _draw_tree, dict(x=x)))
    objects.sort(key=lambda item: -item[0])
    for z, draw, kwargs in objects:
        draw(canvas, rng, z=z, **kwargs)


def sample_scene(size: Tuple[int, int], rng: np.random.Generator) -> Scene:
    """Lay out one street scene of ``size`` (height, width), each >= 16,
    drawing every random number from ``rng``."""
    height, width = _check_size(size)
    canvas = _Canvas(height, width, focal=width * rng.uniform(0.5, 0.65),
                     horizon=height * rng.uniform(0.36, 0.5),
                     center_x=width * rng.uniform(0.38, 0.62))
    street = _Street(canvas, rng)
    far_z = rng.uniform(50.0, 150.0)
    _draw_backdrop(canvas, rng, far_z)
    for plane_x in street.facade_x:
        _draw_facade(canvas, rng, plane_x, far_z)
    street.paint(canvas)
    first_object = len(canvas.region_material)
    _place_objects(canvas, rng, street, far_z)

    region_material = np.asarray(canvas.region_material, np.uint8)
    region_depth = np.asarray(canvas.region_depth, np.float32)
    material, depth = canvas.material, canvas.depth
    objects = canvas.region >= first_object
    material[objects] = region_material[canvas.region[objects]]
    depth[objects] = region_depth[canvas.region[objects]]
    return Scene(material=material, region=canvas.region,
                 region_material=region_material, depth=depth,
                 horizon=canvas.horizon)


def _check_size(size) -> Tuple[int, int]:
    try:
        height, width = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(
            f'size: expected (height, width) integers, got {size!r}') from None
    if height < 16 or width < 16 or (height, width) != tuple(size):
        raise ValueError(
            f'size: expected (height, width) integers >= 16, got {size!r}')
    return height, width
