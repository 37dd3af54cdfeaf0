"""Write feature-divergence results: CSV, JSON and a divergence-vs-depth plot.

Every file is written to a temporary file in the target folder and moved into
place with ``os.replace``, so a reader never sees a half-written file.
"""
import csv
import io
import json
import os
import os.path as osp
import tempfile
from typing import Callable, Dict, List, Sequence

from .runner import LayerDivergence

__all__ = ['CSV_COLUMNS', 'write_atomically', 'write_divergence_csv',
           'write_divergence_json', 'plot_divergence_vs_depth']

CSV_COLUMNS = tuple(LayerDivergence.__dataclass_fields__)


def write_atomically(path: str, write: Callable[[io.IOBase], None],
                     binary: bool = False) -> None:
    """Call ``write(file)`` on a temp file next to ``path``, then rename it."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temp_path = tempfile.mkstemp(
        dir=folder, prefix=f'.{osp.basename(path)}.', suffix='.tmp')
    try:
        mode = 'wb' if binary else 'w'
        kwargs = {} if binary else dict(encoding='utf-8', newline='')
        with os.fdopen(handle, mode, **kwargs) as file:
            write(file)
        os.replace(temp_path, path)
    except BaseException:
        if osp.exists(temp_path):
            os.remove(temp_path)
        raise


def write_divergence_csv(path: str, rows: Sequence[LayerDivergence]) -> None:
    """One row per (model, pair, layer), columns :data:`CSV_COLUMNS`."""

    def write(file):
        writer = csv.DictWriter(file, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(row.to_dict() for row in rows)

    write_atomically(path, write)


def write_divergence_json(path: str, rows: Sequence[LayerDivergence],
                          metadata: Dict) -> None:
    """``{**metadata, 'rows': [...]}``; metadata says how it was computed."""
    if 'rows' in metadata:
        raise ValueError("metadata must not have a 'rows' key")
    document = dict(metadata, rows=[row.to_dict() for row in rows])

    def write(file):
        json.dump(document, file, indent=2)
        file.write('\n')

    write_atomically(path, write)


def _series(rows: Sequence[LayerDivergence]) -> Dict[tuple, List]:
    series = {}
    for row in rows:
        series.setdefault((row.model, row.pair), []).append(row)
    return {key: sorted(points, key=lambda r: r.depth)
            for key, points in series.items()}


def plot_divergence_vs_depth(path: str, rows: Sequence[LayerDivergence],
                             title: str = 'Feature divergence per layer',
                             log_scale: bool = False) -> None:
    """PNG line plot: x = layer depth, y = divergence.

    One line per (model, pair): colour by model, line style by pair.

    Args:
        path (str): Output PNG.
        rows (Sequence[LayerDivergence]): Results to draw.
        title (str): Figure title.
        log_scale (bool): Logarithmic y axis (appearance and content
            divergences can differ by orders of magnitude).
    """
    if not rows:
        raise ValueError('plot_divergence_vs_depth: no rows to plot')
    # The object-oriented Figure renders with Agg and touches no global
    # pyplot state, so this works headless and from any thread.
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    models = list(dict.fromkeys(row.model for row in rows))
    pairs = list(dict.fromkeys(row.pair for row in rows))
    colours = colormaps['tab10']
    styles = ['-', '--', ':', '-.']
    markers = ['o', 's', '^', 'D', 'v', 'x']

    figure = Figure(figsize=(9, 5))
    axes = figure.add_subplot()
    for (model, pair), points in _series(rows).items():
        model_index, pair_index = models.index(model), pairs.index(pair)
        axes.plot([p.depth for p in points], [p.divergence for p in points],
                  color=colours(model_index % 10),
                  linestyle=styles[pair_index % len(styles)],
                  marker=markers[pair_index % len(markers)], markersize=4,
                  label=f'{model} | {pair}')
    names_at_depth = {}
    for row in rows:
        names_at_depth.setdefault(row.depth, set()).add(row.layer)
    depths = sorted(names_at_depth)
    axes.set_xticks(depths)
    if all(len(names) == 1 for names in names_at_depth.values()):
        axes.set_xticklabels([names_at_depth[d].pop() for d in depths],
                             rotation=60, ha='right', fontsize=8)
        axes.set_xlabel('layer (forward order)')
    else:  # models of different depths: the same index is another layer
        axes.set_xlabel('hooked layer index (forward order)')
    axes.set_ylabel('mean symmetric KL over channels')
    if log_scale:
        axes.set_yscale('log')
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    write_atomically(
        path, lambda file: figure.savefig(file, format='png', dpi=120),
        binary=True)
