# نصوص صفحات الويب بالعربية. المعرّفات نفسها في fr/web.ftl.

site-name = الشكايات عبر الإنترنت
skip-to-content = الانتقال إلى المحتوى
language-nav = اللغة
footer-text = خدمة الشكايات عبر الإنترنت لمكتب الملكية الصناعية والتجارية.
footer-agents = فضاء الموظفين
back-home = العودة إلى الصفحة الرئيسية
agent-area = فضاء الموظفين
required = إلزامي
choose = — اختر —
errors-title = يرجى تصحيح ما يلي
title-refused = خطأ:
summary-item = { $label }: { $message }
sending = جارٍ الإرسال…

home-title = الشكايات المتعلقة بالشهادة السلبية
home-lead = طلبتم شهادة سلبية ولم يجرِ الأمر كما ينبغي؟ قدّموا شكاية: تُحال إلى الجهة المكلفة بمعالجتها، وتتابعون جوابها هنا.
home-submit-title = تقديم شكاية
home-submit-text = ثلاث مراحل: شكايتكم، ثم معلومات الاتصال بكم، ثم التحقق قبل الإرسال.
home-submit = تقديم شكاية
home-follow-title = تتبع شكاية
home-follow-text = برقم الشكاية وبريدكم الإلكتروني، اطّلعوا على حالتها، وراسلوا الجهة المعنية، وأغلقوها أو أعيدوا فتحها.
home-follow = تتبع شكاية
home-how-title = كيف يعمل
home-how-1 = تقدّمون شكايتكم وتتلقون رقمها عبر البريد الإلكتروني.
home-how-2 = تجيبكم الجهة المكلفة بطلبكم، ويصلكم إشعار بالبريد الإلكتروني.
home-how-3 = يمكنكم مراسلتها في أي وقت، مع مرفقات.
home-how-4 = إذا رضيتم بالجواب أغلقتم الشكاية؛ وإن لم تتفاعلوا معه أُغلقت تلقائياً بعد 7 أيام من الجواب.

wizard-title = تقديم شكاية
wizard-intro = الحقول المشار إليها بنجمة (*) إلزامية.
steps-label = مراحل التقديم
step-claim = شكايتكم
step-contact = معلومات الاتصال
step-recap = التحقق
field-theme = الموضوع العام
field-filing-place = مكان إيداع طلب الشهادة
field-subject = الموضوع
field-request-number = رقم طلب الشهادة السلبية
field-request-number-hint = كما هو مدوّن في وصل طلبكم.
field-message = الرسالة
captcha-legend = التحقق
captcha-alt = رمز التحقق المطلوب نسخه (صورة)
field-captcha = رمز الصورة
field-captcha-hint = انسخوا الأحرف الخمسة الظاهرة في الصورة أعلاه.
captcha-other = عرض صورة أخرى
captcha-solved = تم التحقق من الرمز.
captcha-expired = انتهت صلاحية التحقق: انسخوا الرمز الجديد.
attachments-legend = المرفقات
already-attached = ملفات مرفقة من قبل:
files-label = إضافة ملفات
files-hint = ملفات PDF أو صور، 20 ميغابايت على الأكثر لكل ملف، و10 ملفات على الأكثر؛ ويمكن إرسال عدة ملفات في ملف ZIP.
file-too-large = يتجاوز هذا الملف 20 ميغابايت.
files-unreadable = تعذّر استلام الملفات؛ اختاروها من جديد.
remove-file = حذف
no-attachments = لا شيء
next-step = المرحلة التالية
previous-step = المرحلة السابقة
field-profile = الصفة
field-email = البريد الإلكتروني
field-email-hint = سيُرسل إليكم رقم الشكاية والأجوبة على هذا العنوان.
field-company-name = الاسم التجاري للشركة
field-last-name = الاسم العائلي
field-first-name = الاسم الشخصي
legal-only-hint = للشخص المعنوي.
natural-only-hint = للشخص الذاتي.
field-phone = الهاتف
field-address = العنوان
field-city = المدينة
field-country = البلد
recap-intro = تحققوا من شكايتكم قبل إرسالها. لتغيير شيء ما، اختاروا «تعديل».
modify = تعديل
confirm = تأكيد وإرسال

filed-title = تم تسجيل الشكاية
filed-number-intro = سُجّلت شكايتكم تحت الرقم:
filed-keep = احتفظوا بهذا الرقم: يمكّنكم، مع بريدكم الإلكتروني، من تتبع شكايتكم.
filed-email-sent = أُرسل بريد إلكتروني للتأكيد يحمل هذا الرقم إلى
filed-already = سبق إرسال هذه الشكاية: لم تُودع مرة ثانية.
filed-open = الاطلاع على شكايتي

track-title = تتبع شكاية
track-intro = أدخلوا رقم شكايتكم والبريد الإلكتروني الذي قدّمتموه عند الإيداع.
field-claim-number = رقم الشكاية
field-claim-number-hint = مثلاً RC-2026-AB12-CD34-EF56، كما ورد في بريد التأكيد.
track-submit = فتح الشكاية
track-not-found = لا توجد شكاية بهذا الرقم وهذا البريد الإلكتروني. تحققوا منهما معاً.
track-too-many = محاولات فاشلة كثيرة. أعيدوا المحاولة بعد { $n ->
        [one] دقيقة واحدة
        [two] دقيقتين
        [few] { $n } دقائق
       *[other] { $n } دقيقة
    }.

claim-title = الشكاية { $number }
claim-number = الرقم
claim-status = الحالة
claim-entity = تعالجها
auto-close-at = إن لم تتفاعلوا، ستُغلق في
details-title = التفاصيل
filed-at = تاريخ الإيداع
history-title = السجل
actor-client = أنتم
actor-the-client = المشتكي
auto-close-at-staff = إن لم يتفاعل المشتكي، ستُغلق في
actor-system = تلقائي
field-satisfaction = درجة الرضا
leave-claim = مغادرة هذه الشكاية على هذا الجهاز
message-title = مراسلة الجهة المعنية
field-your-message = رسالتكم
message-send = إرسال الرسالة
close-title = إغلاق الشكاية
close-intro = هل سُوّي طلبكم؟ أخبرونا بمدى رضاكم وأغلقوا الشكاية.
satisfaction-1 = 1 – غير راضٍ إطلاقاً
satisfaction-2 = 2 – قليل الرضا
satisfaction-3 = 3 – راضٍ نوعاً ما
satisfaction-4 = 4 – راضٍ
satisfaction-5 = 5 – راضٍ جداً
field-comment = تعليق (اختياري)
close-send = إغلاق
reopen-title = إعادة فتح الشكاية
field-reason = سبب إعادة الفتح
reopen-send = إعادة الفتح
done-message = أُرسلت رسالتكم.
done-closed = أُغلقت الشكاية. شكراً على رأيكم.
done-reopened = أُعيد فتح الشكاية.
done-answer = أُرسل الجواب.
unsent-label = نصّكم، لم يُرسل:
action-conflict = تغيّرت الشكاية في الأثناء: لم يُرسل شيء. هذه حالتها الحالية؛ ونصّكم محفوظ أدناه.

login-title = دخول الموظفين
field-login = اسم المستخدم
field-password = كلمة المرور
login-submit = الدخول
login-refused = اسم المستخدم أو كلمة المرور غير صحيحة.
signed-in-as = متصل:
logout = الخروج
queue-title = قائمة الشكايات
queue-of = قائمة:
queue-count = { $n ->
        [zero] لا شكاية في الانتظار
        [one] شكاية واحدة في الانتظار
        [two] شكايتان في الانتظار
        [few] { $n } شكايات في الانتظار
       *[other] { $n } شكاية في الانتظار
    }
queue-empty = لا توجد شكاية تنتظر جهتكم.
queue-why = السبب
queue-waiting = مدة الانتظار
reason-new = جديدة
reason-reopened = أُعيد فتحها
reason-message = رسالة من المشتكي
reason-transferred = محالة
waited-days = { $d ->
        [one] يوم واحد
        [two] يومان
        [few] { $d } أيام
       *[other] { $d } يوماً
    } و{ $h ->
        [zero] 0 ساعة
        [one] ساعة واحدة
        [two] ساعتان
        [few] { $h } ساعات
       *[other] { $h } ساعة
    }
waited-minutes = { $m ->
        [zero] أقل من دقيقة
        [one] دقيقة واحدة
        [two] دقيقتان
        [few] { $m } دقائق
       *[other] { $m } دقيقة
    }
waited-hours = { $h ->
        [zero] 0 ساعة
        [one] ساعة واحدة
        [two] ساعتان
        [few] { $h } ساعات
       *[other] { $h } ساعة
    } و{ $m ->
        [zero] 0 دقيقة
        [one] دقيقة واحدة
        [two] دقيقتان
        [few] { $m } دقائق
       *[other] { $m } دقيقة
    }
field-entity = الجهة
show-queue = عرض
back-to-queue = → العودة إلى القائمة
answer-title = الجواب
agent-message-title = مراسلة دون جواب
answer-send = إرسال الجواب
answer-and-close = إغلاق الشكاية مع هذا الجواب
agent-claim-closed = هذه الشكاية مغلقة: وحده المشتكي يمكنه إعادة فتحها.
transfer-title = إحالة على جهة أخرى
field-transfer-reason = سبب الإحالة
transfer-send = إحالة
done-transferred = أُحيلت الشكاية على الجهة الأخرى.
pages-label = صفحات القائمة
page-previous = → الصفحة السابقة
page-next = الصفحة التالية ←
page-of = الصفحة { $n } من { $total }
