"""`symnn check` and `symnn.check(text)`: read a learner's own derivation, find the first wrong step, show why.

>>> r = check("given yhat = sigmoid(z)\\ndyhat/dz = yhat")
>>> r.ok, r.first_error, r.mistake.misconception.id
(False, 2, 'missing-activation-derivative')
"""

from symnn.checking.checker import DEFAULT_TIMEOUT, check
from symnn.checking.misconceptions import BY_ID as MISCONCEPTIONS
from symnn.checking.result import CheckResult
from symnn.checking.statements import CheckInputError

__all__ = ["check", "CheckResult", "CheckInputError", "MISCONCEPTIONS", "DEFAULT_TIMEOUT"]
