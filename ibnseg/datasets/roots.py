"""Where each dataset lives: one environment variable per domain, read by
the tools and (as ``{{$VAR:default}}``) by the dataset configs."""
import os

DATASETS_WITH_ROOTS = ('cityscapes', 'gta5', 'bdd100k', 'mapillary', 'synthia',
                       'acdc')
DATA_ROOT_ENV = {d: f'IBNSEG_{d.upper()}_ROOT' for d in DATASETS_WITH_ROOTS}
#: Without the variable, relative to the working folder as in mmseg's.
DEFAULT_DATA_ROOTS = {d: f'data/{d}/' for d in DATASETS_WITH_ROOTS}
#: GTA5's split files (tools/gta5_split_from_mat.py), under its data root.
GTA5_SPLIT_DIR = 'splits'


def data_root(domain: str) -> str:
    """``$IBNSEG_<DOMAIN>_ROOT`` if set, else ``data/<domain>/``; set but
    empty is an error, as in mmengine's config substitution."""
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
    """Why a config's ``{{$VARIABLE:default}}`` cannot be filled in (mmengine
    says only "cannot be found", also for a variable set but empty)."""
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
    """``value`` if given, else the domain's setting (a bad one through
    ``parser.error``)."""
    if value:
        return value
    try:
        return data_root(domain)
    except ValueError as error:
        parser.error(str(error))
