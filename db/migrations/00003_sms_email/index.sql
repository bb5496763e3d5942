-- reserved for the sms_email issue; replaced when it lands
select 1;
