"""Social-auth pipeline steps (filled in with the social login work)."""


def associate_by_verified_email(*args, **kwargs):
    return None


def create_user(*args, **kwargs):
    return None
