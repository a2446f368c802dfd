"""Admin form pieces shared by the apps."""
from __future__ import annotations

from django import forms

from wardsite.secrets import unreadable_fields


class WriteOnlySecretsForm(forms.ModelForm):
    """Secrets (`secret_fields`) are write-only: never rendered back; left blank on edit, the stored value is kept."""

    secret_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        unreadable = unreadable_fields(self.instance) if self.instance.pk else []
        for name in self.secret_fields:
            self.fields[name].widget = forms.PasswordInput(render_value=False)
            self.initial[name] = ""
            if name in unreadable:
                self.fields[name].help_text += (" The stored value cannot be decrypted with any key in FERNET_KEYS: "
                                                "enter it again (or put the key that encrypted it back).")
            elif self.instance.pk:
                self.fields[name].help_text += " Leave blank to keep the stored value."

    def _post_clean(self) -> None:
        # blank secret on edit = keep the stored one (restored before the model's clean() runs)
        if self.instance.pk:
            for name in self.secret_fields:
                if not self.cleaned_data.get(name):
                    self.cleaned_data.pop(name, None)
        super()._post_clean()
