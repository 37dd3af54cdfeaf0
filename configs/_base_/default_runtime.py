# mmseg's runtime, with ibnseg's modules registered.
_base_ = ['mmseg::_base_/default_runtime.py']
custom_imports = dict(imports=['ibnseg'], allow_failed_imports=False)
