"""Step-by-step derivations: rule records, the walker, verified Derivations and the topics.

`symnn.derive` is both this package and the public function `symnn.derive(topic, ...)`: the
package module is made callable, so either name works whichever was imported first."""

import sys
import types

from symnn.derive.topics import derive

__all__ = ["derive"]


class _CallablePackage(types.ModuleType):
    def __call__(self, *args, **kwargs):
        return derive(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
