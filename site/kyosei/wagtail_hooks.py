from wagtail import hooks

from kyosei.audit import AUDIT_ACTIONS


@hooks.register("register_log_actions")
def register_core_audit_actions(actions):
    for action, label in AUDIT_ACTIONS.items():
        actions.register_action(action, label, label)
