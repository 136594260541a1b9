"""`symnn check`: read a learner's own derivation, find the first wrong step, show why.

>>> r = check("given yhat = sigmoid(z)\\ndyhat/dz = yhat")
>>> r.ok, r.first_error, r.mistake.misconception.id
(False, 2, 'missing-activation-derivative')
"""

from symnn.check.checker import DEFAULT_TIMEOUT, check
from symnn.check.misconceptions import BY_ID as MISCONCEPTIONS
from symnn.check.result import CheckResult
from symnn.check.statements import CheckInputError

__all__ = ["check", "CheckResult", "CheckInputError", "MISCONCEPTIONS", "DEFAULT_TIMEOUT"]
