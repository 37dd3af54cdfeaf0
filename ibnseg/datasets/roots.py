"""Where each dataset lives: one setting per domain.

A domain's folder is read from one environment variable, so that moving a
dataset (another disk, another working folder) takes one setting for every
use of it: training, validation, testing, cross-domain evaluation,
fine-tuning and the converters. The dataset configs read the same variables
with mmengine's ``{{$VAR:default}}`` syntax (configs/_base_/datasets/domains/);
tests keep the two in step.
"""
import os

#: The datasets with a data-root setting.
DATASETS_WITH_ROOTS = ('cityscapes', 'gta5', 'bdd100k', 'mapillary', 'synthia',
                       'acdc')
#: Environment variable of each dataset's data root: IBNSEG_<NAME>_ROOT.
DATA_ROOT_ENV = {d: f'IBNSEG_{d.upper()}_ROOT' for d in DATASETS_WITH_ROOTS}
#: Data roots without the variable: data/<name>/, relative to the working
#: folder, as in mmseg's configs.
DEFAULT_DATA_ROOTS = {d: f'data/{d}/' for d in DATASETS_WITH_ROOTS}
#: GTA5's split files (tools/gta5_split_from_mat.py), under its data root.
GTA5_SPLIT_DIR = 'splits'


def data_root(domain: str) -> str:
    """The data root of ``domain`` (a key of ``DATA_ROOT_ENV``).

    ``$IBNSEG_<DOMAIN>_ROOT`` if set, else ``data/<domain>/``. Set but
    empty is an error, as mmengine's config substitution makes it.
    """
    if domain not in DATA_ROOT_ENV:
        raise KeyError(f'no data root setting for domain {domain!r}; known: '
                       f'{", ".join(DATA_ROOT_ENV)}')
    variable = DATA_ROOT_ENV[domain]
    if variable not in os.environ:
        return DEFAULT_DATA_ROOTS[domain]
    if not os.environ[variable]:
        raise ValueError(f'${variable} is set but empty; set it to the '
                         f'{domain} data root or unset it (default: '
                         f'{DEFAULT_DATA_ROOTS[domain]})')
    return os.environ[variable]


def unset_variable_message(variable: str) -> str:
    """Why a config's ``{{$VARIABLE:default}}`` cannot be filled in, where
    mmengine says only that the variable "cannot be found" (it says so for
    one that is set but empty too): a data root's own message
    (:func:`data_root`), else whether it is empty or unset."""
    for domain, name in DATA_ROOT_ENV.items():
        if name == variable:
            try:
                data_root(domain)
            except ValueError as error:
                return str(error)
    if variable in os.environ:
        return f'${variable} is set but empty; set it or unset it'
    return f'${variable} is not set and the config gives it no default'


def data_root_help(domain: str) -> str:
    """Help text of a tool's data-root argument for ``domain``."""
    return (f'{domain} data root (default: ${DATA_ROOT_ENV[domain]} if set, '
            f'else {DEFAULT_DATA_ROOTS[domain]})')


def data_root_arg(parser, value, domain: str) -> str:
    """A tool's data-root argument: ``value`` if given, else the domain's
    setting; a bad setting is reported through ``parser.error``."""
    if value:
        return value
    try:
        return data_root(domain)
    except ValueError as error:
        parser.error(str(error))
