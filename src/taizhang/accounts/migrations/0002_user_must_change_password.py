from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="must_change_password",
            field=models.BooleanField(
                default=False,
                help_text="密码由他人设置（工作人员开通账号、管理员重置），用户修改密码前只能打开修改密码页面",
                verbose_name="须修改密码",
            ),
        ),
    ]
