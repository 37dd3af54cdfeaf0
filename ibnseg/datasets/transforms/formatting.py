"""Packing that records which domain a sample came from."""
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackDomainSegInputs(PackSegInputs):
    """mmseg's ``PackSegInputs`` that also stores ``metainfo['domain']``,
    so that ``CrossDomainIoUMetric`` keeps one confusion matrix per domain.

    Args:
        domain (str): Name of the domain, e.g. ``'cityscapes'`` or ``'gta5'``.
        meta_keys (Sequence[str]): As in ``PackSegInputs``.
    """

    def __init__(self, domain: str, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(domain, str) or not domain:
            raise ValueError(
                f'PackDomainSegInputs: domain must be a non-empty string, '
                f'got {domain!r}')
        self.domain = domain

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        packed['data_samples'].set_metainfo(dict(domain=self.domain))
        return packed

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(domain={self.domain!r}, '
                f'meta_keys={self.meta_keys})')
