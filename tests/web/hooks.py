"""The pages' ``data-test`` hooks that outside automation drives: part of the pages' contract
(kept here so that a clone has it; the README points to this list). Keep them when the
pages change; ``test_hooks.py`` checks that every one is still in the pages."""

RESIDENT_H5 = (
    "login-username", "login-password", "login-otp", "login-submit",  # sign in
    "my-code", "code-expires",                                         # 我的码
    "wallet-card",                                                     # 卡包, one each
    "consent", "consent-approve", "consent-deny",                      # 待授权, one each
    "scan-history",                                                    # 扫码记录
    "user-code", "user-code-approve",                                  # 伙伴登录
    "notice",                                                          # 消息, one each
)

COUNTER_CONSOLE = (
    "login-client-id", "login-client-secret", "login-submit",          # sign in
    "purpose", "scan-camera", "scan-input",                            # scan
    "subject-name", "subject-kind", "assurance-level", "scan-error",   # the result
    "request-type", "request-materials", "request-status", "materials",  # materials
    "face-check", "face-result",                                       # the face check
)
