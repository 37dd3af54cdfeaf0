"""What the synthetic scenes are made of: materials (a class's parts, which
look different: a car's windows and body) and their Cityscapes label ids.
Each material belongs to one class, so the label map is a lookup of the
material map and cannot disagree with what was drawn."""
import numpy as np

#: Cityscapes *label ids* (not trainIds) of the classes the scenes contain.
CLASS_LABEL_IDS = dict(road=7,
                       sidewalk=8,
                       building=11,
                       pole=17,
                       traffic_sign=20,
                       vegetation=21,
                       sky=23,
                       person=24,
                       car=26)

#: (material name, class name), in material-index order.
MATERIALS = (
    ('sky', 'sky'),
    ('road', 'road'),
    ('road_marking', 'road'),
    ('sidewalk', 'sidewalk'),
    ('curb', 'sidewalk'),
    ('building_wall', 'building'),
    ('building_window', 'building'),
    ('vegetation', 'vegetation'),
    ('tree_trunk', 'vegetation'),
    ('pole', 'pole'),
    ('sign_face', 'traffic_sign'),
    ('sign_border', 'traffic_sign'),
    ('car_body', 'car'),
    ('car_window', 'car'),
    ('car_wheel', 'car'),
    ('car_light', 'car'),
    ('person_top', 'person'),
    ('person_bottom', 'person'),
    ('person_skin', 'person'),
)

MATERIAL_NAMES = tuple(name for name, _ in MATERIALS)
#: Material name -> index into the material map.
MATERIAL_INDEX = {name: index for index, name in enumerate(MATERIAL_NAMES)}


#: ``MATERIAL_LABEL_IDS[material_map]`` is the label-id map.
MATERIAL_LABEL_IDS = np.array([CLASS_LABEL_IDS[cls] for _, cls in MATERIALS],
                              np.uint8)
MATERIAL_LABEL_IDS.flags.writeable = False  # a shared constant
