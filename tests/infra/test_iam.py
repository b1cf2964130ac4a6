"""Each function's role, held to the calls the function was seen making across `make test`.

tests/src/calls.rs records, for every AWS request a function's code sent to the emulator
(which enforces no IAM), the IAM action and resource it needs on AWS. Here each role, as the
SAM transform expands it, must grant every one of them (else the call ends in AccessDenied
on AWS), and grant nothing else (a grant no test exercised is either tested or removed).
"""

from test_template import FUNCTIONS, grants


def test_every_call_a_function_made_is_granted_to_it(expanded, calls):
    missing = sorted(
        f"{function} needs {action} on {resource}"
        for function, action, resource in calls
        if (action, resource) not in grants(expanded, function)
    )
    assert not missing, "calls the role does not grant:\n" + "\n".join(missing)


def test_every_grant_was_exercised_by_a_test(expanded, calls):
    unexercised = sorted(
        f"{function} may {action} on {resource}"
        for function in FUNCTIONS
        for action, resource in grants(expanded, function)
        if (function, action, resource) not in calls
    )
    assert not unexercised, "grants no test exercised (test them or remove them):\n" + "\n".join(unexercised)


def test_the_record_covers_every_function(calls):
    # Each function was seen making calls: a recorder that attributes nothing passes nothing.
    assert {function for function, _, _ in calls} == FUNCTIONS
