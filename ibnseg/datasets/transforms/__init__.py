from .formatting import PackDomainSegInputs

__all__ = ['PackDomainSegInputs']
