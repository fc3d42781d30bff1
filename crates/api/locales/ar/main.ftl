### claimdesk: رسائل الواجهة البرمجية باللغة العربية.
### كل معرّف هنا موجود أيضًا في ../fr/main.ftl (يتحقق من ذلك اختبار).

## المشاكل (application/problem+json): العنوان والتفاصيل

problem-bad-request-title = طلب غير سليم
problem-bad-request-detail = الطلب غير سليم: محتوى غير مقروء، أو JSON أو استمارة غير صحيحة، أو ترويسة غير صحيحة.
problem-unauthorized-title = المصادقة مطلوبة
problem-unauthorized-detail = بيانات الدخول غير موجودة أو غير صحيحة أو منتهية الصلاحية.
problem-forbidden-title = الوصول مرفوض
problem-forbidden-detail = لا يحق لك القيام بهذا الإجراء.
problem-not-found-title = غير موجود
problem-not-found-detail = المورد المطلوب غير موجود أو غير متاح لك.
problem-conflict-title = الإجراء غير ممكن حاليًا
problem-conflict-detail = لا يمكن تنفيذ هذا الإجراء في الحالة الحالية للشكاية. يرجى تحديث الصفحة ثم إعادة المحاولة.
problem-conflict-concurrent-change = عُدِّلت الشكاية للتو من جهة أخرى. يرجى تحديث الصفحة ثم إعادة المحاولة.
problem-conflict-claim-closed = الشكاية مغلقة: لا يمكن إعادة فتحها إلا من طرف المشتكي مع ذكر السبب.
problem-conflict-not-closed = الشكاية غير مغلقة، لذا لا يمكن إعادة فتحها.
problem-conflict-not-answered = لم تتلقَّ الشكاية أي رد بعد.
problem-conflict-request-in-progress = طلب مطابق قيد المعالجة حاليًا. يرجى الانتظار لحظات.
problem-payload-too-large-title = المحتوى كبير جدًا
problem-payload-too-large-detail = الحجم الأقصى المسموح به هو { $size }.
problem-unsupported-media-type-title = نوع المحتوى غير مقبول
problem-unsupported-media-type-detail = لا تُقبل إلا ملفات PDF والصور (JPEG وPNG وGIF وWebP وTIFF وBMP وHEIC) وأرشيفات ZIP التي تضم هذه الملفات. يُحدَّد نوع الملف انطلاقًا من محتواه لا من اسمه.
problem-unsupported-media-type-empty = الملف المرسل فارغ.
problem-unsupported-media-type-archive-entry = يحتوي الأرشيف على ملف مرفوض: «{ $name }». لا يمكن أن يضم أرشيف ZIP إلا ملفات PDF أو صورًا.
problem-unsupported-media-type-archive-encrypted = لا تُقبل أرشيفات ZIP المحمية بكلمة مرور.
problem-unsupported-media-type-archive-nested = لا يمكن أن يضم أرشيف ZIP أرشيفات أخرى.
problem-unsupported-media-type-archive-too-large = لا يمكن أن يضم أرشيف ZIP ملفاً يتجاوز 20 ميغابايت، ولا أكثر من 200 ميغابايت من الملفات إجمالاً بعد فك الضغط.
problem-unsupported-media-type-archive-unreadable = أرشيف ZIP تالف أو فارغ أو يضم عددًا كبيرًا جدًا من الملفات.
problem-unsupported-media-type-expected-json = يجب إرسال محتوى الطلب بصيغة JSON ‏(Content-Type: application/json).
problem-unsupported-media-type-expected-multipart = يجب إرسال الملف بصيغة multipart/form-data.
problem-unprocessable-title = طلب غير قابل للمعالجة
problem-unprocessable-idempotency-key = سبق استعمال مفتاح منع التكرار هذا لطلب مختلف.
problem-validation-failed-title = بيانات غير صالحة
problem-validation-failed-detail =
    { $count ->
        [zero] لا يوجد أي حقل يجب تصحيحه.
        [one] يجب تصحيح حقل واحد.
        [two] يجب تصحيح حقلين.
        [few] يجب تصحيح { $count } حقول.
        [many] يجب تصحيح { $count } حقلًا.
       *[other] يجب تصحيح { $count } حقل.
    }
problem-captcha-invalid-title = رمز التحقق غير صحيح
problem-captcha-invalid-detail = رمز التحقق غير صحيح أو منتهي الصلاحية أو سبق استعماله. يرجى إدخال رمز صورة جديدة.
problem-too-many-requests-title = محاولات كثيرة جدًا
problem-too-many-requests-detail-seconds =
    { $seconds ->
        [one] يرجى إعادة المحاولة بعد ثانية واحدة.
        [two] يرجى إعادة المحاولة بعد ثانيتين.
        [few] يرجى إعادة المحاولة بعد { $seconds } ثوانٍ.
        [many] يرجى إعادة المحاولة بعد { $seconds } ثانية.
       *[other] يرجى إعادة المحاولة بعد { $seconds } ثانية.
    }
problem-too-many-requests-detail-minutes =
    { $minutes ->
        [one] يرجى إعادة المحاولة بعد دقيقة واحدة.
        [two] يرجى إعادة المحاولة بعد دقيقتين.
        [few] يرجى إعادة المحاولة بعد { $minutes } دقائق.
        [many] يرجى إعادة المحاولة بعد { $minutes } دقيقة.
       *[other] يرجى إعادة المحاولة بعد { $minutes } دقيقة.
    }
problem-internal-title = خطأ داخلي
problem-internal-detail = حدث خطأ غير متوقع. يرجى إعادة المحاولة لاحقًا.

## الأحجام

size-megabytes = { $n } ميغابايت
size-kilobytes = { $n } كيلوبايت
size-bytes = { $n } بايت

## أخطاء الحقول

field-required = هذا الحقل إلزامي.
field-blank = لا يمكن أن يقتصر هذا الحقل على مسافات أو أحرف غير مرئية.
field-too-long =
    { $max ->
        [one] يجب ألا يتجاوز هذا الحقل حرفًا واحدًا.
        [two] يجب ألا يتجاوز هذا الحقل حرفين.
        [few] يجب ألا يتجاوز هذا الحقل { $max } أحرف.
        [many] يجب ألا يتجاوز هذا الحقل { $max } حرفًا.
       *[other] يجب ألا يتجاوز هذا الحقل { $max } حرف.
    }
field-text-too-long = هذا النص طويل جدًا.
field-too-many =
    { $max ->
        [one] لا يُقبل أكثر من عنصر واحد.
        [two] لا يُقبل أكثر من عنصرين.
        [few] لا يُقبل أكثر من { $max } عناصر.
        [many] لا يُقبل أكثر من { $max } عنصرًا.
       *[other] لا يُقبل أكثر من { $max } عنصر.
    }
field-unknown-code = هذه القيمة ليست من بين الاختيارات المقترحة.
field-invalid-email = عنوان البريد الإلكتروني غير صحيح: يجب أن يتضمن علامة @ واحدة وألا يتضمن أي مسافة.
field-invalid-phone = رقم الهاتف غير صحيح: يُسمح فقط بالأرقام والمسافات والعلامات + - . ( ).
field-legal-person-only = هذا الحقل خاص بالأشخاص المعنويين.
field-natural-person-only = هذا الحقل خاص بالأشخاص الذاتيين.
field-duplicate = هذه القيمة موجودة مسبقًا في القائمة.
field-control-characters = يحتوي هذا الحقل على أحرف غير مسموح بها.
field-captcha-invalid = الرمز غير صحيح أو منتهي الصلاحية أو سبق استعماله: أدخل رمز صورة جديدة.
field-unknown-upload = هذا الملف غير معروف أو انتهت صلاحيته، يرجى إرساله من جديد.
field-attachment-too-large = يجب ألا يتجاوز حجم كل مرفق 20 ميغابايت.
field-satisfaction-out-of-range = يجب أن يكون مستوى الرضا بين 1 و5.
field-invalid = قيمة غير صالحة.

## حالات الشكاية

status-pending = في انتظار المعالجة
status-answered = تمت الإجابة عنها
status-closed = مغلقة

## سجل الشكاية

history-filed = إيداع الشكاية
history-routed = إحالة الشكاية على جهة المعالجة
history-transferred = تحويل الشكاية إلى جهة أخرى
history-answered = رد جهة المعالجة
history-message-client = رسالة من صاحب الشكاية
history-message-entity = رسالة من جهة المعالجة
history-closed-client = إغلاق من طرف صاحب الشكاية
history-closed-entity = إغلاق من طرف جهة المعالجة
history-closed-auto = إغلاق تلقائي
history-reopened = إعادة فتح الشكاية

problem-method-not-allowed-title = طريقة غير مسموح بها
problem-method-not-allowed-detail = هذا العنوان لا يقبل طريقة HTTP هذه.
