import csv
import json

import cv2
import pytest

from ibnseg.analysis import (LayerDivergence, divergence_figure,
                             plot_divergence_vs_depth, write_divergence_csv,
                             write_divergence_json)


def make_rows(model, layers, pair='content', scale=1.0):
    return [LayerDivergence(model=model, pair=pair, pair_type='content',
                            layer=layer, depth=depth, channels=4,
                            images_a=3, images_b=3,
                            divergence=scale * depth)
            for depth, layer in enumerate(layers, start=1)]


def test_csv_and_json_round_trip_and_replace_old_files(tmp_path):
    rows = make_rows('r18', ['layer1', 'layer2']) + make_rows(
        'r50', ['layer1', 'layer2'], pair='appearance:grey', scale=0.5)
    csv_path, json_path = tmp_path / 'd.csv', tmp_path / 'd.json'
    csv_path.write_text('stale')
    write_divergence_csv(str(csv_path), rows)
    write_divergence_json(str(json_path), rows, dict(eps=1e-6))

    with open(csv_path) as file:
        table = list(csv.DictReader(file))
    assert [(r['model'], r['pair'], r['layer'], float(r['divergence']))
            for r in table] == [
        ('r18', 'content', 'layer1', 1.0), ('r18', 'content', 'layer2', 2.0),
        ('r50', 'appearance:grey', 'layer1', 0.5),
        ('r50', 'appearance:grey', 'layer2', 1.0)]
    document = json.loads(json_path.read_text())
    assert document['eps'] == 1e-6
    assert [LayerDivergence(**row) for row in document['rows']] == rows


def test_plot_names_the_layers_when_models_share_them(tmp_path):
    rows = (make_rows('r18', ['layer1.0', 'layer1.1'])
            + make_rows('r50', ['layer1.0', 'layer1.1', 'layer1.2']))
    axes = divergence_figure(rows, log_scale=True).axes[0]
    assert [label.get_text() for label in axes.get_xticklabels()] == [
        'layer1.0', 'layer1.1', 'layer1.2']
    assert axes.get_yscale() == 'log'
    other = make_rows('r18', ['layer1', 'layer2']) + make_rows(
        'd121', ['block1', 'block2'])
    assert divergence_figure(other).axes[0].get_xlabel() == \
        'hooked layer index (forward order)'
    path = tmp_path / 'plots' / 'divergence.png'
    plot_divergence_vs_depth(str(path), rows)
    assert cv2.imread(str(path)).shape[2] == 3
    with pytest.raises(ValueError, match='no rows'):
        plot_divergence_vs_depth(str(path), [])


def test_a_model_with_random_weights_is_marked_in_the_plot():
    untrained = make_rows('plain', ['layer1', 'layer2'], scale=300)
    for row in untrained:
        row.random_weights = True
    rows = untrained + make_rows('ibn_a', ['layer1', 'layer2'])
    axes = divergence_figure(rows).axes[0]
    assert [text.get_text() for text in axes.get_legend().get_texts()] == [
        'plain (random weights) | content', 'ibn_a | content']
    assert 'plain: random weights' in axes.get_title()
    faded, trained = axes.get_lines()
    assert faded.get_alpha() < 1 and faded.get_linewidth() < \
        trained.get_linewidth()
    # no untrained model: nothing marked
    axes = divergence_figure(rows[2:]).axes[0]
    assert 'random' not in axes.get_title()
    assert [text.get_text() for text in axes.get_legend().get_texts()] == [
        'ibn_a | content']
