"""Write feature-divergence results (CSV, JSON and a divergence-vs-depth
plot), each with :func:`ibnseg.engine.atomic_write`."""
import csv
import io
import json
from dataclasses import asdict
from typing import Dict, List, Sequence

from ibnseg.engine import atomic_write
from .runner import LayerDivergence

CSV_COLUMNS = tuple(LayerDivergence.__dataclass_fields__)


def write_divergence_csv(path: str, rows: Sequence[LayerDivergence]) -> None:
    """One row per (model, pair, layer), columns :data:`CSV_COLUMNS`."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    writer.writerows(asdict(row) for row in rows)
    atomic_write(path, text.getvalue())


def write_divergence_json(path: str, rows: Sequence[LayerDivergence],
                          metadata: Dict) -> None:
    """``{**metadata, 'rows': [...]}``; metadata says how it was computed."""
    document = dict(metadata, rows=[asdict(row) for row in rows])
    atomic_write(path, json.dumps(document, indent=2) + '\n')


def _series(rows: Sequence[LayerDivergence]) -> Dict[tuple, List]:
    series = {}
    for row in rows:
        series.setdefault((row.model, row.pair), []).append(row)
    return {key: sorted(points, key=lambda r: r.depth)
            for key, points in series.items()}


def plot_divergence_vs_depth(path: str, rows: Sequence[LayerDivergence],
                             title: str = 'Feature divergence per layer',
                             log_scale: bool = False) -> None:
    """Write :func:`divergence_figure` of ``rows`` to the PNG ``path``."""
    figure = divergence_figure(rows, title, log_scale)
    image = io.BytesIO()
    figure.savefig(image, format='png', dpi=120)
    atomic_write(path, image.getvalue())


def divergence_figure(rows: Sequence[LayerDivergence],
                      title: str = 'Feature divergence per layer',
                      log_scale: bool = False):
    """A matplotlib ``Figure`` of divergence against layer depth: a line
    per (model, pair), colour by model, style by pair; a model with random
    weights is drawn faded and named so in the legend and title (its values
    are not comparable). ``log_scale``: logarithmic y axis."""
    if not rows:
        raise ValueError('plot_divergence_vs_depth: no rows to plot')
    # The object-oriented Figure renders with Agg and touches no global
    # pyplot state, so this works headless and from any thread.
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    models = list(dict.fromkeys(row.model for row in rows))
    untrained = {row.model for row in rows if row.random_weights}
    pairs = list(dict.fromkeys(row.pair for row in rows))
    colours = colormaps['tab10']
    styles = ['-', '--', ':', '-.']
    markers = ['o', 's', '^', 'D', 'v', 'x']

    figure = Figure(figsize=(11, 5))
    axes = figure.add_subplot()
    for (model, pair), points in _series(rows).items():
        model_index, pair_index = models.index(model), pairs.index(pair)
        random = model in untrained
        axes.plot([p.depth for p in points], [p.divergence for p in points],
                  color=colours(model_index % 10),
                  linestyle=styles[pair_index % len(styles)],
                  marker=markers[pair_index % len(markers)], markersize=4,
                  linewidth=0.8 if random else 1.5,
                  alpha=0.5 if random else 1.0,
                  label=f'{model} (random weights) | {pair}' if random else
                  f'{model} | {pair}')
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
    if untrained:
        title += ('\n' + ', '.join(sorted(untrained)) +
                  ': random weights (untrained), not comparable')
    axes.set_title(title)
    axes.grid(alpha=0.3)
    # Outside the axes: with several models and pairs it would hide lines.
    axes.legend(fontsize=8, loc='upper left', bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    return figure
